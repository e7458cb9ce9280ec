/**
 * The point of the design, shown in real browsers: with a policy that refuses a header, the browser's preflight
 * reaches the emulator (its request log has the OPTIONS) and the actual PUT never does; no route is involved.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { detectBrowsers } from '../../harness/browsers/detect.ts';
import { ROOT } from '../cli/run-cli.ts';
import { tempDir } from '../temp-dir.ts';
import { runSuite, type SuiteResult, suiteEnv } from './run-suite.ts';

const browsers = detectBrowsers({ ...process.env, CORS_BROWSERS: undefined }).found.map((b) => b.name);

test('the browsers never register a route or switch web security off', () => {
  const grep = spawnSync(
    'git',
    ['grep', '-nE', String.raw`\.route\(|routeFromHAR|routeWebSocket|disable-web-security`, '--', 'harness'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  assert.equal(grep.stdout, '');
  assert.equal(grep.status, 1, 'git grep finds nothing');
});

/**
 * The deviation list's three runs (harness/browsers/deviations.ts), at once, each with an emulator, state and
 * reports of its own, started by whichever test asks first. The emulator's `allow-headers-star` fault answers
 * Access-Control-Allow-Headers: * — the standard then forbids Authorization; browsers allow it. Listed, that
 * deviation passes. Without the fault the emulator echoes `authorization`, the browsers agree with the standard,
 * and the list is stale. That last run, on a well-behaved emulator, also holds the refused-header case.
 */
let deviationRuns: Promise<[SuiteResult, SuiteResult, SuiteResult]> | undefined;
function runDeviations() {
  if (deviationRuns) return deviationRuns;
  const deviation = 'test/fixtures/selftest/deviation';
  const withRefused = tempDir('r2-cors-design-');
  for (const file of [
    `${deviation}/authorization-under-star.yaml`,
    'test/fixtures/selftest/cases/allowed-headers.yaml',
  ])
    copyFileSync(path.join(ROOT, file), path.join(withRefused, path.basename(file)));
  const listedIn = 'test/fixtures/selftest/deviations-listed.yaml';
  deviationRuns = Promise.all([
    runSuite(suiteEnv({ CORS_CASES: deviation, R2_EMULATOR_FAULT: 'allow-headers-star' }), browsers),
    runSuite(
      suiteEnv({ CORS_CASES: deviation, R2_EMULATOR_FAULT: 'allow-headers-star', CORS_DEVIATIONS: listedIn }),
      browsers,
    ),
    runSuite(suiteEnv({ CORS_CASES: withRefused, CORS_DEVIATIONS: listedIn }), browsers),
  ]);
  return deviationRuns;
}

test('a refused header: the preflight reaches the emulator, the PUT never does', {
  skip: browsers.length === 0 && 'no browser installed',
}, async () => {
  const [, , result] = await runDeviations();
  // The run fails on purpose (the stale deviation, asserted below); nothing else in it may.
  const deviation = (title: string) => title.endsWith('] authorization-under-star › with-authorization');
  assert.deepEqual(
    [...result.tests]
      .filter(([title, t]) => !deviation(title) && t.status !== 'passed' && t.status !== 'skipped')
      .map(([title, t]) => `${title}: ${t.status}\n${t.error}`),
    [],
    result.output,
  );
  assert.ok(result.tests.size > 0, result.output);
  for (const browser of browsers) {
    const t = result.tests.get(`[${browser}] allowed-headers › custom-header`);
    assert.equal(t?.status, 'passed', browser);
    const observed = JSON.parse(t?.attachments['browser observation'] ?? '{}');
    assert.equal(observed.outcome, 'blocked', browser);
    assert.equal(observed.preflight, 'sent', `${browser}: the emulator's log has the OPTIONS`);
    assert.equal(observed.preflightStatus, 403, browser);
    assert.equal(observed.actualReached, false, `${browser}: the PUT never reached the emulator`);
    assert.doesNotMatch(
      t?.attachments['browser observation'] ?? '',
      /X-Amz-Signature=[0-9a-f]/,
      'no signature in the report',
    );
  }
  const chromium = result.tests.get('[chromium] allowed-headers › custom-header');
  if (chromium)
    assert.equal(JSON.parse(chromium.attachments['browser observation']).reason, 'PreflightMissingAllowOriginHeader');
});

test('a browser that departs from the standard is named, unless listed; a listed one that conforms again fails', {
  skip: browsers.length === 0 && 'no browser installed',
}, async () => {
  const title = (b: string) => `[${b}] authorization-under-star › with-authorization`;
  const [unlisted, listed, stale] = await runDeviations();
  for (const browser of browsers) {
    assert.equal(unlisted.tests.get(title(browser))?.status, 'failed', browser);
    assert.match(
      unlisted.tests.get(title(browser))?.error ?? '',
      new RegExp(
        `^Error: ${browser} deviates from the Fetch standard: from the responses the target sent, the standard predicts ` +
          `blocked \\(HeaderDisallowedByPreflightResponse: header authorization is not in Access-Control-Allow-Headers '\\*'\\); ` +
          `${browser} allowed \\(200\\)\\.`,
      ),
      browser,
    );
  }
  for (const browser of browsers) assert.equal(listed.tests.get(title(browser))?.status, 'passed', browser);
  for (const browser of browsers) {
    assert.match(
      stale.tests.get(title(browser))?.error ?? '',
      /is listed as a \w+ deviation .* but \w+ now does what the standard predicts/,
      browser,
    );
  }
});
