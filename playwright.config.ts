/**
 * `npx playwright test`: the conformance suite. The target comes from the environment (README, "Targets"):
 * the embedded emulator by default, started by the global set-up and stopped by its teardown.
 * Projects: `raw` (undici, exact status and headers) and one per browser found (README, "Browsers").
 * Outputs go to reports/ (reports/README.md).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from '@playwright/test';
import { detectBrowsers } from './harness/browsers/detect.ts';
import { browserWorkersFromEnv, workersFromEnv } from './harness/conformance/workers.ts';

const browsers = detectBrowsers();
/** Where every output goes (reports/README.md); the self-tests point it elsewhere. */
const reports = process.env.CORS_REPORTS_DIR ?? 'reports';
// Said once, by the main process (workers load this file too).
if (!process.env.TEST_WORKER_INDEX) for (const note of browsers.notes) console.log(`[r2-cors] ${note}`);
const browserWorkers = browserWorkersFromEnv();

/**
 * A run in waves (fewer buckets than cases, README "Waves") needs every project to keep workers of its own: the
 * raw project gets what the browsers leave. Only a live target (a bucket list or buckets of its own) has waves.
 */
const workers = workersFromEnv();
const live = ['R2_BUCKETS', 'S3_BUCKETS', 'R2_BUCKET_PREFIX'].some((name) => process.env[name]);
const rawWorkers = live ? Math.max(1, workers - browsers.found.length * browserWorkers) : undefined;
// Ctrl-C during the tests: Playwright (1.64) waits for each worker to exit, for 5 minutes after its last sign of
// life. A worker whose slot was made just before the signal, but whose process was started just after it, never
// hears the stop (WorkerHost.start awaits a mkdir before it forks), so the run hung for 5 minutes before
// Playwright killed it (seen in CI; reproduced by slowing that mkdir). A worker that did hear it sends a
// heartbeat every second while it closes, so 20 s without one means it never will. PWTEST_CHILD_PROCESS_TIMEOUT
// is Playwright's own knob for this (read when it stops a worker, not documented); the interruption self-test
// prints the run's output when an exit takes over a minute, should a later Playwright drop it.
process.env.PWTEST_CHILD_PROCESS_TIMEOUT ??= '20000';
// The wave coordinator's feed (harness/conformance/wave-feed.ts): Playwright adds this reporter to any others,
// including those a command line's --reporter names instead of the config's.
process.env.PW_TEST_REPORTER ??= fileURLToPath(new URL('./harness/conformance/wave-feed.ts', import.meta.url));

export default defineConfig({
  testDir: 'harness/conformance',
  globalSetup: './harness/conformance/global-setup.ts',
  // Awaited even when Ctrl-C stops the set-up: it waits for the set-up to settle and put the buckets back.
  globalTeardown: './harness/conformance/global-teardown.ts',
  outputDir: `${reports}/test-results`,
  forbidOnly: Boolean(process.env.CI),
  fullyParallel: true,
  // Checks wait on the network, not the CPU: more workers than cores pays off.
  workers,
  // A sequence case may wait for several policy changes (up to 30 s each on R2).
  timeout: Number(process.env.CORS_TEST_TIMEOUT ?? 180) * 1000,
  reporter: [
    ['list'],
    ['html', { outputFolder: `${reports}/html`, open: 'never' }],
    ['json', { outputFile: `${reports}/results.json` }],
    ['junit', { outputFile: `${reports}/junit.xml` }],
    // The conformance page, conformance.json, summary.md and observations.json (reports/README.md).
    ['./harness/report/reporter.ts', { outputDir: reports, htmlFolder: 'html' }],
  ],
  // The browsers first: they take longest, so their workers start at once and the raw project's checks fill
  // the other workers beside them.
  projects: [
    ...browsers.found.map((b) => ({
      name: b.name,
      testMatch: 'browser.spec.ts',
      workers: browserWorkers,
      use: { browserName: b.name, headless: true, launchOptions: b.launchOptions },
    })),
    { name: 'raw', testMatch: 'raw.spec.ts', workers: rawWorkers },
  ],
});
