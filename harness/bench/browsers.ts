/**
 * `npm run bench:browsers`: what the browser checks cost, over the whole corpus on the emulator, with the
 * suite's default settings (CORS_BROWSER_CONTEXT, CORS_WORKERS, … as the environment says).
 *
 * 1. Each browser project alone (`playwright test --project=<browser> browser.spec.ts`): checks per second, from
 *    the first check's start to the last one's end (the set-up excluded), without the seconds the cases wait on
 *    purpose (`delaySeconds`); and what each phase costs, from the timings the spec records
 *    (harness/browsers/timings.ts): making a context, a page's navigation, the page's fetch(), reading the
 *    request log, a batch (its cases' checks side by side), a check's body, and Playwright's own cost between
 *    one check's body and the next.
 * 2. The whole suite (`playwright test`: raw and every browser, what `npm run conformance` runs once installed)
 *    against the raw project alone: wall times and their ratio.
 *
 * A record, never an assertion: figures vary with the machine and what else runs on it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectBrowsers } from '../browsers/detect.ts';
import { batchSizeFromEnv, contextMode } from '../browsers/isolation.ts';
import type { Phase, Timing } from '../browsers/timings.ts';
import { loadCases } from '../cases/load.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PLAYWRIGHT = path.join(ROOT, 'node_modules/@playwright/test/cli.js');

interface Result {
  status: string;
  startTime: string;
  duration: number;
  workerIndex: number;
}
interface Suite {
  suites?: Suite[];
  specs?: { file: string; tests: { results: Result[] }[] }[];
}

function results(suite: Suite, into: Result[] = [], every = false): Result[] {
  for (const spec of suite.specs ?? []) {
    if (!every && !spec.file.endsWith('browser.spec.ts')) continue;
    for (const t of spec.tests) into.push(...t.results);
  }
  for (const child of suite.suites ?? []) results(child, into, every);
  return into;
}

/** Runs Playwright as a user would, in a state directory of its own; the wall time and the JSON report. */
function playwright(args: string[], env: Record<string, string> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'r2-cors-bench-'));
  const report = path.join(dir, 'results.json');
  const started = Date.now();
  const run = spawnSync(process.execPath, [PLAYWRIGHT, 'test', '--reporter=json', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_NAME: report, R2_CORS_STATE_DIR: dir, ...env },
  });
  const wall = (Date.now() - started) / 1000;
  if (!existsSync(report)) throw new Error(`playwright ${args.join(' ')} wrote no report:\n${run.stderr.slice(-3000)}`);
  const suites = JSON.parse(readFileSync(report, 'utf8')).suites as Suite[];
  return { wall, suites, dir, status: run.status };
}

const ms = (values: number[]) => {
  if (values.length === 0) return 'none';
  const sum = values.reduce((a, b) => a + b, 0);
  return `${(sum / values.length).toFixed(1)} ms × ${values.length} = ${(sum / 1000).toFixed(2)} s`;
};

/** Seconds the corpus's requests ask to wait before sending (delaySeconds), spent once per project. */
const waits = loadCases([process.env.CORS_CASES ?? 'cases'])
  .cases.flatMap((c) => c.steps)
  .reduce((sum, s) => sum + (s.kind === 'request' ? (s.request.delaySeconds ?? 0) : 0), 0);
const browsers = detectBrowsers().found.map((b) => b.name);
const workers = process.env.CORS_WORKERS ?? '4 (default)';
console.log(
  `Browser checks over ${process.env.CORS_CASES ?? 'cases'}: ${workers} workers, CORS_BROWSER_CONTEXT=${contextMode()}, ` +
    `CORS_BROWSER_BATCH=${batchSizeFromEnv(contextMode())}; ` +
    `cases wait ${waits} s on purpose (left out of the rates).`,
);

const rates: string[] = [];
for (const browser of browsers) {
  const timingsFile = path.join(mkdtempSync(path.join(tmpdir(), 'r2-cors-timings-')), 'timings.jsonl');
  const { suites, status } = playwright([`--project=${browser}`, 'browser.spec.ts'], {
    R2_CORS_BROWSER_TIMINGS: timingsFile,
  });
  const ran = suites.flatMap((s) => results(s)).filter((r) => r.status !== 'skipped');
  const start = Math.min(...ran.map((r) => Date.parse(r.startTime)));
  const end = Math.max(...ran.map((r) => Date.parse(r.startTime) + r.duration));
  const seconds = (end - start) / 1000;
  const failed = ran.filter((r) => r.status !== 'passed').length;
  const rate = ran.length / (seconds - waits);
  rates.push(`${browser} ${rate.toFixed(1)} checks/s`);
  console.log(
    `\n${browser}: ${ran.length} checks in ${seconds.toFixed(1)} s = ${(ran.length / seconds).toFixed(1)} checks/s; ` +
      `without the ${waits} s of waits: ${rate.toFixed(1)} checks/s${failed ? ` (${failed} not passed: exit ${status})` : ''}`,
  );

  const timings: Timing[] = existsSync(timingsFile)
    ? readFileSync(timingsFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Timing)
    : [];
  const of = (phase: Phase) => timings.filter((t) => t.phase === phase);
  // Playwright's own cost per test: the time between one check's body and the next in the same worker, less
  // the contexts made and the batches checked in between (beforeAll hooks: a case's own context, a batch).
  const gaps: number[] = [];
  const launches: number[] = [];
  for (const worker of new Set(of('check').map((t) => t.worker))) {
    const checks = of('check')
      .filter((t) => t.worker === worker)
      .sort((a, b) => a.start - b.start);
    const hooks = [...of('context'), ...of('batch')].filter((t) => t.worker === worker);
    for (let i = 1; i < checks.length; i++) {
      const from = checks[i - 1].start + checks[i - 1].ms;
      const to = checks[i].start;
      const making = hooks.filter((c) => c.start >= from && c.start < to).reduce((sum, c) => sum + c.ms, 0);
      gaps.push(Math.max(0, to - from - making));
    }
    // From the worker's first test's start to its first check body: the browser's launch, mostly.
    const first = ran
      .filter((r) => String(r.workerIndex) === worker)
      .reduce((min, r) => Math.min(min, Date.parse(r.startTime)), Number.POSITIVE_INFINITY);
    if (checks.length > 0 && Number.isFinite(first)) launches.push(Math.max(0, checks[0].start - first));
  }
  const checkMs = of('check').map((t) => t.ms);
  const fetches = of('fetch').map((t) => t.ms);
  const lookups = of('log').map((t) => t.ms);
  console.log(`  worker start (browser launch)    ${ms(launches)}`);
  console.log(`  context                          ${ms(of('context').map((t) => t.ms))}`);
  console.log(`  navigation (page per origin)     ${ms(of('navigation').map((t) => t.ms))}`);
  console.log(`  fetch in the page                ${ms(fetches)}`);
  console.log(`  request-log lookup               ${ms(lookups)}`);
  console.log(
    `  batch (its cases' checks side by side: the navigations, fetches and log read above)  ${ms(of('batch').map((t) => t.ms))}`,
  );
  console.log(
    `  check body (one at a time: all of the above, raw prediction, steps, waits; batched: the verdict)  ${ms(checkMs)}`,
  );
  console.log(`  Playwright between checks        ${ms(gaps)}`);
}

console.log('\nThe whole suite (raw and every browser) against the raw project alone, on the emulator:');
const raw = playwright(['--project=raw']);
const all = playwright([]);
const limit = 1.5 * raw.wall + waits;
const count = (run: typeof all) => {
  const every = run.suites.flatMap((s) => results(s, [], true));
  const n = (status: string) => every.filter((r) => r.status === status).length;
  return `${n('passed')} passed, ${n('failed') + n('timedOut') + n('interrupted')} not passed, ${n('skipped')} skipped`;
};
console.log(
  `  raw only ${raw.wall.toFixed(1)} s; whole suite ${all.wall.toFixed(1)} s = ${(all.wall / raw.wall).toFixed(2)} × raw ` +
    `(target ≤ 1.5 × raw + ${waits} s of waits = ${limit.toFixed(1)} s${all.status === 0 ? '' : `; exit ${all.status}`})`,
);
console.log(`  raw only: ${count(raw)}; whole suite: ${count(all)}`);
console.log(`\nbrowsers: ${rates.join(', ')}`);
