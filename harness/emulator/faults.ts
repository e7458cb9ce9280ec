/**
 * Deliberate misbehaviours, for the harness's self-tests only: the harness must report each of them. A module
 * of its own, so that `r2-cors emulator --help`, which lists them, loads nothing else.
 *   ignore-allowed-headers  every rule allows every header
 *   star-for-named-origin   Access-Control-Allow-Origin is `*` even for a named origin
 *   never-propagate         a policy change never reaches requests
 *   allow-headers-star      a preflight answers Access-Control-Allow-Headers: * instead of the names asked for
 *                           (what R2 might do; it shows how browsers treat Authorization under '*')
 *   other-profile           four of the profile's choices made the other way (OTHER_PROFILE), as a live R2
 *                           might: `r2-cors calibrate` must name exactly those fields
 *   set-cookie              a response to a request with Origin sets a cookie (as a CDN in front of a bucket
 *                           may): the browser checks must keep it from reaching other cases
 *   previous-policy         the data plane stays one change behind: after a change (and its delay), requests are
 *                           answered with the policy the bucket had before it, until its next change, while the
 *                           control plane reports the new one. On a bucket reused by waves of a nightly, wave
 *                           k+1 is answered by what was there before: the propagation probe must notice
 */
export type Fault =
  | 'ignore-allowed-headers'
  | 'star-for-named-origin'
  | 'never-propagate'
  | 'allow-headers-star'
  | 'other-profile'
  | 'set-cookie'
  | 'previous-policy';
export const FAULTS: readonly Fault[] = [
  'ignore-allowed-headers',
  'star-for-named-origin',
  'never-propagate',
  'allow-headers-star',
  'other-profile',
  'set-cookie',
  'previous-policy',
];
