/**
 * What each phase of the browser checks costs, for `npm run bench:browsers` (harness/bench/browsers.ts): with
 * R2_CORS_BROWSER_TIMINGS=<file>, every worker writes one JSON line per timed phase to that file as it exits.
 * Without it, nothing is kept.
 */
import { appendFileSync } from 'node:fs';

/** context: making a browser context; navigation: a page at an origin; fetch: the page's fetch(); log: reading
 * the emulator's request log; check: a whole test body, from its first line to its last; batch: a batch's
 * beforeAll, every check of its cases made side by side (harness/conformance/browser.spec.ts). */
export type Phase = 'context' | 'navigation' | 'fetch' | 'log' | 'check' | 'batch';

export interface Timing {
  phase: Phase;
  /** ms since the epoch */
  start: number;
  ms: number;
  worker: string;
}

const file = process.env.R2_CORS_BROWSER_TIMINGS;
const kept: Timing[] = [];
if (file) process.on('exit', () => appendFileSync(file, kept.map((t) => `${JSON.stringify(t)}\n`).join('')));

export function record(phase: Phase, start: number, end = Date.now()) {
  if (file) kept.push({ phase, start, ms: end - start, worker: process.env.TEST_WORKER_INDEX ?? String(process.pid) });
}

export async function timed<T>(phase: Phase, work: () => Promise<T>): Promise<T> {
  const start = Date.now();
  try {
    return await work();
  } finally {
    record(phase, start);
  }
}
