/**
 * `npm run bench:browsers`: browser checks per second, per browser, over the whole corpus on the emulator.
 * Each browser project runs alone (`playwright test --project=<browser> browser.spec.ts`), and the rate is the
 * number of checks that ran divided by the time from the first check's start to the last one's end (the set-up
 * excluded); it is also given without the time cases ask to wait (`delaySeconds`, a preflight cache expiring).
 * A record, not a test: the target is at least 10 checks per second per browser on a 2-core machine.
 * CORS_BROWSER_CONTEXT=worker measures one context per worker instead of one per case.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectBrowsers } from '../browsers/detect.ts';
import { loadCases } from '../cases/load.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PLAYWRIGHT = path.join(ROOT, 'node_modules/@playwright/test/cli.js');

interface Result {
  status: string;
  startTime: string;
  duration: number;
}
interface Suite {
  suites?: Suite[];
  specs?: { tests: { results: Result[] }[] }[];
}

function results(suite: Suite, into: Result[] = []): Result[] {
  for (const spec of suite.specs ?? []) for (const t of spec.tests) into.push(...t.results);
  for (const child of suite.suites ?? []) results(child, into);
  return into;
}

const workers = process.env.CORS_WORKERS ?? '2';
/** Seconds the corpus's requests ask to wait before sending (delaySeconds), spent once per browser. */
const waits = loadCases([process.env.CORS_CASES ?? 'cases'])
  .cases.flatMap((c) => c.steps)
  .reduce((sum, s) => sum + (s.kind === 'request' ? (s.request.delaySeconds ?? 0) : 0), 0);
for (const browser of detectBrowsers().found.map((b) => b.name)) {
  const dir = mkdtempSync(path.join(tmpdir(), 'r2-cors-bench-'));
  const report = path.join(dir, 'results.json');
  const run = spawnSync(
    process.execPath,
    [PLAYWRIGHT, 'test', `--project=${browser}`, '--reporter=json', 'browser.spec.ts'],
    {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, CORS_WORKERS: workers, PLAYWRIGHT_JSON_OUTPUT_NAME: report, R2_CORS_STATE_DIR: dir },
    },
  );
  const ran = (JSON.parse(readFileSync(report, 'utf8')).suites as Suite[])
    .flatMap((s) => results(s))
    .filter((r) => r.status !== 'skipped');
  const start = Math.min(...ran.map((r) => Date.parse(r.startTime)));
  const end = Math.max(...ran.map((r) => Date.parse(r.startTime) + r.duration));
  const seconds = (end - start) / 1000;
  const failed = ran.filter((r) => r.status !== 'passed').length;
  const rate = (s: number) => (ran.length / s).toFixed(1);
  console.log(
    `${browser.padEnd(9)} ${ran.length} checks in ${seconds.toFixed(1)} s = ${rate(seconds)} checks/s; ` +
      `without the ${waits} s cases wait on purpose: ${rate(seconds - waits)} checks/s ` +
      `(${workers} workers, context per ${process.env.CORS_BROWSER_CONTEXT === 'worker' ? 'worker' : 'case'}${failed ? `, ${failed} not passed` : ''}; target ≥ 10)`,
  );
  if (run.status !== 0 && failed === 0) console.log(run.stdout.slice(-2000));
}
