/**
 * The point of the design, shown in real browsers: with a policy that refuses a header, the browser's preflight
 * reaches the emulator (its request log has the OPTIONS) and the actual PUT never does; no route is involved.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { detectBrowsers } from '../../harness/browsers/detect.ts';
import { ROOT } from '../cli/run-cli.ts';
import { runSuite, suiteEnv } from './run-suite.ts';

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

test('a refused header: the preflight reaches the emulator, the PUT never does', {
  skip: browsers.length === 0 && 'no browser installed',
}, async () => {
  const result = await runSuite(
    suiteEnv({ CORS_CASES: 'test/fixtures/selftest/cases/allowed-headers.yaml' }),
    browsers,
  );
  assert.equal(result.code, 0, result.output);
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
