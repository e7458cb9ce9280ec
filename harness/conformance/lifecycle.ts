/**
 * How the set-up hands the run's end to the teardown, and why there are two hooks.
 *
 * On Ctrl-C, Playwright (1.64) stops waiting for the global set-up at once — the set-up's promise keeps running —
 * then runs the teardowns of the tasks that started, prints its report and exits. The set-up's own returned
 * teardown does not exist yet at that point, but `globalTeardown` (a task Playwright starts before the set-up)
 * is awaited. So global-teardown.ts stops the set-up if it is still going, waits until it has settled (stopped
 * starting changes, every request it sent answered, the run's buckets put back), then ends the run. Only then
 * does the process exit, with every line printed.
 * Both hooks run in Playwright's main process; they meet through `globalThis`, whatever the module loader does.
 */
import { Interrupted } from '../run/abort.ts';

export interface Lifecycle {
  /** Fired by Ctrl-C / SIGTERM, or by the teardown when Playwright ends the run before the set-up is done. */
  stop: AbortController;
  /** Resolves once the set-up has returned or thrown: nothing of it can change a bucket any more. */
  settled: Promise<void>;
  isSettled: boolean;
  settle(): void;
  /** The run's end (put every bucket back, stop servers), once the set-up has succeeded; runs once. */
  teardown?: () => Promise<void>;
}

interface Slot {
  lifecycle?: Lifecycle;
  /** The teardown ran before the set-up began (Ctrl-C while Playwright was still loading it). */
  endedEarly?: boolean;
}

const KEY = Symbol.for('r2-cors-conformance.lifecycle');

function slot(): Slot {
  const g = globalThis as { [KEY]?: Slot };
  g[KEY] ??= {};
  return g[KEY];
}

/** Called first by the set-up; refuses to begin a run Playwright has already ended. */
export function beginLifecycle(): Lifecycle {
  if (slot().endedEarly) throw new Interrupted('SIGINT');
  let settle = () => {};
  const settled = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const lifecycle: Lifecycle = {
    stop: new AbortController(),
    settled,
    isSettled: false,
    settle: () => {
      lifecycle.isSettled = true;
      settle();
    },
  };
  slot().lifecycle = lifecycle;
  return lifecycle;
}

/** Called by the teardown: the set-up in progress, if any, after telling it to stop. */
export function endLifecycle(): Lifecycle | undefined {
  const { lifecycle } = slot();
  if (!lifecycle) {
    slot().endedEarly = true;
    return undefined;
  }
  if (!lifecycle.isSettled && !lifecycle.stop.signal.aborted) lifecycle.stop.abort('SIGINT');
  return lifecycle;
}
