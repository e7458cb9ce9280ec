/**
 * Applying a policy and proving it is in effect on the data plane, not only in GetBucketCors. R2 takes up to
 * 30 s to apply a change [doc], so the runner polls with backoff until requests are answered by the new policy.
 *
 * The probe works for any policy, even one that answers the case's own requests exactly as the old one did:
 * the policy is applied with one sentinel rule in front, which allows only a unique origin and exposes a header
 * name made for this apply. A probe from that origin sees the name only once this very version is in force.
 * The rule is inert for the case: no request of a case comes from that origin, and being first it is the only
 * rule the probe's origin can match. Deleting a policy is proven by the previous sentinel disappearing.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import type { Surface } from '../cases/model.ts';
import type { CorsPolicy, CorsRule } from '../policy/model.ts';
import { MAX_RULES } from '../policy/validate.ts';
import type { Target } from '../targets/target.ts';
import { pause, stopIfAborted } from './abort.ts';

export class NotInEffect extends Error {
  constructor(
    readonly seconds: number,
    readonly lastSeen: string,
    what: string,
  ) {
    super(`policy not in effect after ${seconds} s (${what}); last response seen: ${lastSeen}`);
  }
}

export interface ApplyOptions {
  /** Object (under the run prefix) that probes request; written by the caller. */
  probeKey: string;
  /** Surfaces to probe; the policy counts as in effect when every one answers with it. */
  surfaces: Surface[];
  /** How long to wait for each change, in milliseconds. */
  deadlineMs: number;
  /** Stops the apply before its next change or probe (harness/run/abort.ts); a request already sent is awaited. */
  signal?: AbortSignal;
}

export interface Applied {
  /** From the case policy's apply to the first probe that proved it in force. */
  propagationMs: number;
  probes: number;
  /** The sentinel now in force, if any: a later delete is proven by its disappearance. */
  sentinel?: Sentinel;
}

/** A unique origin and header name; not secret. */
export interface Sentinel {
  origin: string;
  marker: string;
}

/** What a harness sentinel looks like: how a policy the harness left behind is recognised (harness/run/leftovers.ts). */
export const SENTINEL_ORIGIN = /^https:\/\/r2-cors-probe-[0-9a-f]+\.invalid$/;
export const SENTINEL_MARKER = /^x-r2-cors-probe-[0-9a-f]+$/i;

function newSentinel(): Sentinel {
  const nonce = randomBytes(6).toString('hex');
  return { origin: `https://r2-cors-probe-${nonce}.invalid`, marker: `x-r2-cors-probe-${nonce}` };
}

function sentinelRule(s: Sentinel): CorsRule {
  return { allowedOrigins: [s.origin], allowedMethods: ['GET', 'HEAD'], exposeHeaders: [s.marker] };
}

let probeCounter = 0;

/** One probe: a GET of the probe object from the sentinel origin; a fresh query each time gets past caches. */
async function probe(
  target: Target,
  bucket: string,
  key: string,
  surface: Surface,
  s: Sentinel,
): Promise<{ marked: boolean; seen: string }> {
  probeCounter += 1;
  const base =
    surface === 's3' ? await target.presign('GET', bucket, key, 300) : await target.objectUrl(surface, bucket, key);
  const url = surface === 's3' ? base : `${base}?r2-cors-probe=${Date.now()}-${probeCounter}`;
  const response = await request(url, { method: 'GET', headers: { origin: s.origin }, dispatcher: target.dispatcher });
  await response.body.dump();
  const expose = [response.headers['access-control-expose-headers']].flat().join(',').toLowerCase();
  const allow = [response.headers['access-control-allow-origin']].flat().join(',');
  return {
    marked: expose.split(',').some((h) => h.trim() === s.marker),
    seen: `${surface} GET ${response.statusCode}, access-control-allow-origin: ${allow || '(absent)'}, access-control-expose-headers: ${expose || '(absent)'}`,
  };
}

/** Polls until every surface shows (or no longer shows) the sentinel's marker. */
async function waitFor(
  target: Target,
  bucket: string,
  s: Sentinel,
  options: ApplyOptions,
  marked: boolean,
  what: string,
) {
  const start = Date.now();
  let delay = 50;
  let probes = 0;
  const lastSeen = new Map<Surface, string>();
  const pending = new Set(options.surfaces);
  for (;;) {
    // The deadline is judged by when a round of probes was sent, not answered: under load an early probe can be
    // answered after the deadline, and its answer (the old policy) must not be the last word.
    const sent = Date.now();
    for (const surface of [...pending]) {
      stopIfAborted(options.signal);
      probes += 1;
      const result = await probe(target, bucket, options.probeKey, surface, s);
      lastSeen.set(surface, result.seen);
      if (result.marked === marked) pending.delete(surface);
    }
    if (pending.size === 0) return { ms: Date.now() - start, probes };
    if (sent - start > options.deadlineMs) {
      const seen = [...pending].map((surface) => lastSeen.get(surface)).join('; ');
      throw new NotInEffect(Math.round(options.deadlineMs / 1000), seen, what);
    }
    await pause(delay, options.signal);
    stopIfAborted(options.signal);
    // Capped at 0.5 s: a slower poll would add up to its own length to every measured propagation time, and a
    // run in waves waits that long once per wave; about 60 probes at R2's 30 s.
    delay = Math.min(500, Math.round(delay * 1.5));
  }
}

/**
 * Applies `policy` (null: deletes it) and waits until the data plane answers with it. `previous` is the
 * sentinel of this bucket's last apply, when known; `neverHadPolicy` says the bucket was created by this run
 * and never given a policy.
 */
export async function applyAndWait(
  target: Target,
  bucket: string,
  policy: CorsPolicy | null,
  options: ApplyOptions & { previous?: Sentinel; neverHadPolicy?: boolean },
): Promise<Applied> {
  // A bucket this run created and has not changed yet has nothing to delete and nothing to wait for.
  if (!policy && options.neverHadPolicy) return { propagationMs: 0, probes: 0 };
  stopIfAborted(options.signal);
  if (policy && policy.rules.length < MAX_RULES) {
    const s = newSentinel();
    await target.putPolicy(bucket, { rules: [sentinelRule(s), ...policy.rules] });
    const seen = await waitFor(target, bucket, s, options, true, "the case's policy");
    return { propagationMs: seen.ms, probes: seen.probes, sentinel: s };
  }
  // No room for the sentinel rule, or nothing to put it in: a sentinel-only policy first, unless one is known.
  let previous = options.previous;
  let probes = 0;
  if (!previous) {
    previous = newSentinel();
    await target.putPolicy(bucket, { rules: [sentinelRule(previous)] });
    probes += (await waitFor(target, bucket, previous, options, true, 'the sentinel policy that precedes the change'))
      .probes;
  }
  stopIfAborted(options.signal);
  if (policy) await target.putPolicy(bucket, policy);
  else await target.deletePolicy(bucket);
  const gone = await waitFor(target, bucket, previous, options, false, "the case's policy");
  return { propagationMs: gone.ms, probes: probes + gone.probes };
}
