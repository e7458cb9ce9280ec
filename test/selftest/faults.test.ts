/**
 * The harness must catch what it exists to catch: run against an emulator broken on purpose, it reports
 * exactly the expected failures, with the messages a user would see.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ONE_WORKER, runSuite, suiteEnv } from './run-suite.ts';

const CASES = 'test/fixtures/selftest/cases';

// Each run has an emulator, state and reports of its own (run-suite.ts): the runs of a group go at once.
describe('self-tests: the suite against a deliberately misconfigured emulator', { concurrency: true }, () => {
  test('control: the well-behaved emulator passes every fixture', async () => {
    const result = await runSuite(suiteEnv({ ...ONE_WORKER, CORS_CASES: CASES }));
    assert.equal(result.code, 0, result.output);
    assert.deepEqual(
      [...result.tests].map(([title, t]) => `${title}: ${t.status}`),
      ['allowed-headers › custom-header: passed', 'named-origin › get: passed'],
    );
  });

  test('an emulator that ignores AllowedHeaders is caught at the preflight', async () => {
    const result = await runSuite(
      suiteEnv({ ...ONE_WORKER, CORS_CASES: CASES, R2_EMULATOR_FAULT: 'ignore-allowed-headers' }),
    );
    assert.equal(result.code, 1);
    assert.equal(result.tests.get('named-origin › get')?.status, 'passed');
    const failure = result.tests.get('allowed-headers › custom-header');
    assert.equal(failure?.status, 'failed');
    assert.equal(
      failure?.error,
      [
        'Error: --> test/fixtures/selftest/cases/allowed-headers.yaml:21:17  requests[0].expect.preflight.status',
        'expected: 403',
        'received: 200',
        '',
        '--> test/fixtures/selftest/cases/allowed-headers.yaml:23:40  requests[0].expect.preflight.headers.access-control-allow-origin',
        'expected: (absent)',
        'received: https://example.com',
      ].join('\n'),
    );
  });

  test('an emulator that answers * for a named origin is caught', async () => {
    const result = await runSuite(
      suiteEnv({ ...ONE_WORKER, CORS_CASES: CASES, R2_EMULATOR_FAULT: 'star-for-named-origin' }),
    );
    assert.equal(result.code, 1);
    assert.equal(result.tests.get('allowed-headers › custom-header')?.status, 'passed');
    assert.equal(
      result.tests.get('named-origin › get')?.error,
      [
        'Error: --> test/fixtures/selftest/cases/named-origin.yaml:21:40  requests[0].expect.response.headers.access-control-allow-origin',
        'expected: https://example.com',
        'received: *',
      ].join('\n'),
    );
  });

  test('an emulator that never propagates: "policy not in effect", distinct from a wrong answer', async () => {
    const result = await runSuite(
      suiteEnv({
        ...ONE_WORKER,
        CORS_CASES: CASES,
        R2_EMULATOR_FAULT: 'never-propagate',
        CORS_PROPAGATION_DEADLINE: '1',
      }),
    );
    assert.equal(result.code, 1);
    const sentinelMissing = 'GET 200, access-control-allow-origin: (absent), access-control-expose-headers: (absent)';
    const expected = (surfaces: string[]) =>
      `Error: policy not in effect after 1 s (the case's policy); last response seen: ${surfaces.map((s) => `${s} ${sentinelMissing}`).join('; ')}`;
    assert.equal(result.tests.get('allowed-headers › custom-header')?.error, expected(['s3']));
    assert.equal(result.tests.get('named-origin › get')?.error, expected(['s3', 'public']));
  });

  test('a broken case file stops the run before anything is applied, with every problem', async () => {
    const result = await runSuite(suiteEnv({ ...ONE_WORKER, CORS_CASES: 'test/fixtures/lint/broken/wrong-type.yaml' }));
    assert.equal(result.code, 1);
    assert.match(result.output, /3 problem\(s\) in the case files; nothing was run:/);
    assert.match(
      result.output,
      /test\/fixtures\/lint\/broken\/wrong-type\.yaml:19:17 {2}requests\[0\]\.expect\.response\.status: must be a whole number/,
    );
    assert.equal(result.tests.size, 0);
  });
});

describe('self-tests: configuration errors stop the run before any test, naming what is wrong', {
  concurrency: true,
}, () => {
  test('a live target without credentials names every missing variable', async () => {
    const result = await runSuite(suiteEnv({ ...ONE_WORKER, CORS_CASES: CASES, CORS_TARGET: 'r2' }));
    assert.equal(result.code, 1);
    assert.match(
      result.output,
      /the target cannot be used: missing environment variable\(s\): R2_ACCOUNT_ID, R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY, R2_BUCKETS/,
    );
    assert.equal(result.tests.size, 0);
  });

  test('an unknown CORS_TARGET is named', async () => {
    const result = await runSuite(suiteEnv({ ...ONE_WORKER, CORS_CASES: CASES, CORS_TARGET: 'gcs' }));
    assert.equal(result.code, 1);
    assert.match(result.output, /CORS_TARGET must be emulator, r2 or s3, not 'gcs'/);
  });
});
