/**
 * Cases never see each other, shown at scale: the corpus copied four times (ids suffixed `-c1` … `-c4`, written
 * to a temporary folder, never committed), run with 4 workers on the emulator with a propagation delay, raw and
 * in the browsers, must pass whole. Four copies of a case that purges the whole custom-domain zone run
 * alongside four copies of cases that rely on that zone's cache: without the zone lock
 * (harness/run/zone-lock.ts) the copies break each other ('expected: https://a.example / received: (absent)').
 *
 * Bounded (README, "What cases share"): raw at 4×, the browsers at 2×, where 4× in both browsers does not fit
 * in 3 minutes on a 2-core machine. SCALE_COPIES_BROWSERS=4 runs the browsers at 4× as well.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { copyCorpus } from '../../harness/bench/corpus-copies.ts';
import { detectBrowsers } from '../../harness/browsers/detect.ts';
import { loadCases } from '../../harness/cases/load.ts';
import { runSuite, type SuiteResult, suiteEnv } from './run-suite.ts';

const browsers = detectBrowsers({ ...process.env, CORS_BROWSERS: undefined })
  .found.map((b) => b.name)
  .filter((name) => name === 'chromium' || name === 'firefox');
const RAW_COPIES = 4;
const BROWSER_COPIES = Number(process.env.SCALE_COPIES_BROWSERS ?? 2);
const folders: string[] = [];

/** Runs the corpus copied `copies` times in these projects; every test must pass or be skipped by the case. */
async function runCopies(copies: number, projects: string[]): Promise<SuiteResult> {
  const folder = copyCorpus(['cases'], copies);
  folders.push(folder);
  const { cases, problems } = loadCases([folder]);
  assert.deepEqual(problems, []);
  assert.equal(cases.length, copies * loadCases(['cases']).cases.length);
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
  return result;
}

/** The copies of the cases that share the zone's cache and of the one that purges it whole all passed. */
function assertZoneCasesPassed(result: SuiteResult, copies: number, project: string) {
  const prefix = project === 'raw' ? '' : `[${project}] `;
  for (let n = 1; n <= copies; n++) {
    for (const id of ['cache-keeps-old-headers', 'purge-everything-refreshes-headers']) {
      for (const request of ['before-change', 'cached-after-change', 'after-purge']) {
        const title = `${prefix}${id}-c${n} › ${request}`;
        assert.equal(result.tests.get(title)?.status, 'passed', title);
      }
    }
  }
}

after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

describe('scale: the corpus copied, with 4 workers, passes whole', () => {
  test(`raw, the corpus ×${RAW_COPIES}`, async () => {
    const result = await runCopies(RAW_COPIES, ['raw']);
    assertZoneCasesPassed(result, RAW_COPIES, 'raw');
  });

  test(`${browsers.join(' and ') || 'browsers'}, the corpus ×${BROWSER_COPIES}`, {
    skip: browsers.length === 0 && 'no browser installed',
  }, async () => {
    const result = await runCopies(BROWSER_COPIES, browsers);
    for (const browser of browsers) assertZoneCasesPassed(result, BROWSER_COPIES, browser);
  });
});

/** One case that shares the zone and one that purges all of it, copied so that the lists stay exact as cases grow. */
function zoneCases(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'r2-cors-zone-'));
  folders.push(dir);
  for (const id of ['cache-keeps-old-headers', 'purge-everything-refreshes-headers'])
    copyFileSync(path.join('cases', 'custom-domain', `${id}.yaml`), path.join(dir, `${id}.yaml`));
  return dir;
}

describe('CORS_ZONE_WIDE: shards leave the zone-wide cases to one run of their own', () => {
  const statuses = (result: SuiteResult) => [...result.tests].map(([title, t]) => `${title}: ${t.status}`).sort();
  const requests = ['after-purge', 'before-change', 'cached-after-change'];

  test('skip: every case but those that purge the whole zone', async () => {
    const result = await runSuite(suiteEnv({ CORS_CASES: zoneCases(), CORS_ZONE_WIDE: 'skip' }));
    assert.equal(result.code, 0, result.output);
    assert.deepEqual(statuses(result), [
      ...requests.map((r) => `cache-keeps-old-headers › ${r}: passed`),
      ...requests.map((r) => `purge-everything-refreshes-headers › ${r}: skipped`),
    ]);
    const skip = result.tests
      .get('purge-everything-refreshes-headers › before-change')
      ?.annotations.find((a) => a.type === 'skip');
    assert.equal(skip?.description, 'purges the whole custom-domain zone: left to the run with CORS_ZONE_WIDE=only');
  });

  test('only: the cases that purge the whole zone', async () => {
    const result = await runSuite(suiteEnv({ CORS_CASES: zoneCases(), CORS_ZONE_WIDE: 'only' }));
    assert.equal(result.code, 0, result.output);
    assert.deepEqual(statuses(result), [
      ...requests.map((r) => `cache-keeps-old-headers › ${r}: skipped`),
      ...requests.map((r) => `purge-everything-refreshes-headers › ${r}: passed`),
    ]);
  });

  test('anything else stops the run before any test', async () => {
    const result = await runSuite(suiteEnv({ CORS_CASES: zoneCases(), CORS_ZONE_WIDE: 'shard-1' }));
    assert.equal(result.code, 1);
    assert.match(result.output, /CORS_ZONE_WIDE must be run, skip or only \(got 'shard-1'\)/);
    assert.equal(result.tests.size, 0);
  });
});
