/**
 * Cases never see each other, shown at scale: the corpus copied (ids suffixed `-c1`, `-c2`, …, written to a
 * temporary folder, never committed), run with 4 workers on the emulator with a propagation delay, must pass
 * whole. The copies of a case that purges the whole custom-domain zone run alongside the copies of cases that
 * rely on that zone's cache: without the zone lock (harness/run/zone-lock.ts) the copies break each other
 * ('expected: https://a.example / received: (absent)').
 *
 * One Playwright run, as `npx playwright test` runs the corpus: one set-up applies the copies' policies at once.
 * In `npm test` two copies and the raw checks only: the browsers run the corpus once in `npm run test:suite`,
 * and each copy costs the 2-core CI machine about 15 s of CPU raw, 45 s with the browsers.
 * `R2_CORS_SCALE_COPIES=<n>` (2 or more) sets the copies, `R2_CORS_SCALE_BROWSERS=1` adds Chromium and Firefox,
 * by hand (README, "Shown at scale": the figures, measured by hand; no timed assertion here).
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';
import { copyCorpus } from '../../harness/bench/corpus-copies.ts';
import { detectBrowsers } from '../../harness/browsers/detect.ts';
import { loadCases } from '../../harness/cases/load.ts';
import { runSuite, type SuiteResult, suiteEnv } from './run-suite.ts';

const scaleBrowsers = process.env.R2_CORS_SCALE_BROWSERS ?? '0';
if (scaleBrowsers !== '0' && scaleBrowsers !== '1')
  throw new Error(`R2_CORS_SCALE_BROWSERS=${scaleBrowsers}: expected 1 (raw and both browsers) or 0 (raw only)`);
const withBrowsers = scaleBrowsers === '1';
const browsers = withBrowsers
  ? detectBrowsers({ ...process.env, CORS_BROWSERS: undefined })
      .found.map((b) => b.name)
      .filter((name) => name === 'chromium' || name === 'firefox')
  : [];
const COPIES = Number(process.env.R2_CORS_SCALE_COPIES ?? 2);
if (!Number.isInteger(COPIES) || COPIES < 2)
  throw new Error(`R2_CORS_SCALE_COPIES=${process.env.R2_CORS_SCALE_COPIES}: expected a whole number, 2 or more`);
const folders: string[] = [];

after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** The copies of the cases that share the zone's cache and of the one that purges it whole all passed. */
function assertZoneCasesPassed(result: SuiteResult, project: string) {
  const prefix = project === 'raw' ? '' : `[${project}] `;
  for (let n = 1; n <= COPIES; n++) {
    for (const id of ['cache-keeps-old-headers', 'purge-everything-refreshes-headers']) {
      for (const request of ['before-change', 'cached-after-change', 'after-purge']) {
        const title = `${prefix}${id}-c${n} › ${request}`;
        assert.equal(result.tests.get(title)?.status, 'passed', title);
      }
    }
  }
}

test(`scale: the corpus ×${COPIES}, with 4 workers, raw${browsers.map((b) => ` and ${b}`).join('')}, passes whole`, async () => {
  const folder = copyCorpus(['cases'], COPIES);
  folders.push(folder);
  const { cases, problems } = loadCases([folder]);
  assert.deepEqual(problems, []);
  assert.equal(cases.length, COPIES * loadCases(['cases']).cases.length);
  const projects = ['raw', ...browsers];
  const result = await runSuite(
    suiteEnv({
      CORS_CASES: folder,
      CORS_WORKERS: '4',
      R2_EMULATOR_PROPAGATION_DELAY: '1s',
      CORS_BROWSERS: browsers.join(',') || 'none',
    }),
    projects,
  );
  const failed = [...result.tests].filter(([, t]) => t.status !== 'passed' && t.status !== 'skipped');
  assert.deepEqual(
    failed.map(([title, t]) => `${title}: ${t.status}\n${t.error}`),
    [],
    `${failed.length} test(s) of ${result.tests.size} did not pass`,
  );
  assert.equal(result.code, 0, result.output.slice(-4000));
  for (const project of projects) assertZoneCasesPassed(result, project);
});
