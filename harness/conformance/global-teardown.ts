/**
 * The run's end, after the tests — and after Ctrl-C in the set-up, which Playwright does not wait for: this hook
 * is awaited, so it stops the set-up, waits until it has settled and put the buckets back (lifecycle.ts), then
 * ends the run.
 */
import { endLifecycle } from './lifecycle.ts';

export default async function globalTeardown() {
  const lifecycle = endLifecycle();
  if (!lifecycle) return;
  await lifecycle.settled;
  const teardown = lifecycle.teardown;
  lifecycle.teardown = undefined;
  await teardown?.();
}
