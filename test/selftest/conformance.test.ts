/**
 * The README's conformance command as a user types it once installed: `npx playwright test`, the whole corpus
 * against the embedded emulator, raw and in every browser found (CI sets CORS_BROWSERS=chromium,firefox), with
 * the config's own reporters. Every check must pass, or be skipped by the case's own terms; every case must have
 * run in every project (a case made only of refused policies, raw only).
 *
 * A test file rather than a step after `npm run test:unit`, so that it shares the machine with the self-tests:
 * its browsers spend most of their time waiting on pages, time the others' CPU fills. Its state and reports go
 * to folders of its own (run-suite.ts), so it cannot meet them; one line says how many checks passed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { detectBrowsers } from '../../harness/browsers/detect.ts';
import { loadCases } from '../../harness/cases/load.ts';
import { ROOT } from '../cli/run-cli.ts';
import { suiteEnv } from './run-suite.ts';

interface JsonSuite {
  title: string;
  suites?: JsonSuite[];
  specs?: { tests: { projectName: string; status: string }[] }[];
}

test('npx playwright test: the corpus passes on the emulator, raw and in every browser found', async (t) => {
  // What the user's shell holds about browsers; nothing else of the parent's run leaks in (run-suite.ts).
  const browserSettings = Object.fromEntries(
    ['CORS_BROWSERS', 'CORS_BROWSER_WORKERS'].flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : [])),
  );
  const env = suiteEnv(browserSettings);
  const projects = ['raw', ...detectBrowsers(env).found.map((b) => b.name)];
  const child = spawn('npx', ['playwright', 'test'], { cwd: ROOT, env });
  let output = '';
  child.stdout.on('data', (d) => {
    output += d;
  });
  child.stderr.on('data', (d) => {
    output += d;
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, output.slice(-8000));

  const results = JSON.parse(readFileSync(path.join(env.CORS_REPORTS_DIR as string, 'results.json'), 'utf8')) as {
    suites: JsonSuite[];
    stats: { expected: number; skipped: number; unexpected: number; flaky: number; duration: number };
  };
  const { stats } = results;
  // One line: the checks are this test's, not node:test's own (the CI's closing count is of test files' tests).
  t.diagnostic(
    `npx playwright test (${projects.join(', ')}): ${stats.expected} check(s) passed, ${stats.skipped} skipped, in ${Math.round(stats.duration / 1000)} s`,
  );
  assert.equal(stats.unexpected, 0, output.slice(-8000));
  assert.equal(stats.flaky, 0, output.slice(-8000));
  assert.ok(stats.expected > 0, 'checks ran');
  // Case id → the projects it ran in (describe blocks are the case ids; file suites add nothing).
  const ran = new Map<string, Set<string>>();
  const walk = (suite: JsonSuite, id: string) => {
    for (const spec of suite.specs ?? [])
      for (const run of spec.tests) ran.set(id, (ran.get(id) ?? new Set()).add(run.projectName));
    for (const inner of suite.suites ?? []) walk(inner, inner.title.endsWith('.ts') ? id : inner.title);
  };
  for (const suite of results.suites) walk(suite, '');
  const { cases } = loadCases(['cases']);
  // A case made only of refused policies has raw checks only (browser.spec.ts): a browser has no request to make.
  const missing = cases.flatMap((c) =>
    (c.steps.some((s) => s.kind === 'request') ? projects : ['raw'])
      .filter((p) => !ran.get(c.id)?.has(p))
      .map((p) => `${c.id} in ${p}`),
  );
  assert.deepEqual(missing, [], 'every case runs in every project it has checks for');
});
