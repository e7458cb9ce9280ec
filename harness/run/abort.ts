/**
 * Stopping a set-up cleanly. A change the harness has started (a request already sent) is always awaited, never
 * abandoned: R2 may apply it whether or not anyone reads the answer, and a restore must come after it. What an
 * abort stops is starting the next change, and waiting (backoff sleeps, probes not yet sent).
 */

/** The set-up was stopped (Ctrl-C, SIGTERM, or a target error in another bucket) before it finished. */
export class Interrupted extends Error {
  constructor(readonly reason: string) {
    super(`the set-up was stopped (${reason})`);
  }
}

function reasonOf(signal: AbortSignal): string {
  return typeof signal.reason === 'string'
    ? signal.reason
    : signal.reason instanceof Error
      ? signal.reason.message
      : 'aborted';
}

/** Throws Interrupted when the signal has fired: called before every change and every wait. */
export function stopIfAborted(signal: AbortSignal | undefined) {
  if (signal?.aborted) throw new Interrupted(reasonOf(signal));
}

/** Sleeps `ms`, or less when the signal fires (the caller then stops at its next check). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
