/**
 * No crash loses a user's bucket, and a run that cannot use its target changes nothing: runs on an owner's 32
 * buckets (interrupt-trials.ts) are interrupted with SIGINT in the teardown and with SIGKILL at the start of the
 * set-up, in its middle, during the tests and in the teardown; `npx r2-cors restore` then puts back what is left.
 * Beside them: a bucket that does not exist, a wrong key, and CORS_TARGET=s3 on the same emulator.
 * Ctrl-C in the set-up and the tests: interrupt.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { targetFromEnv } from '../../harness/targets/from-env.ts';
import { BUCKETS, ownerAccount, seen, type Trial } from './interrupt-trials.ts';
import { liveEnvOf, seedOwnersBuckets, until } from './live-account.ts';
import { ONE_WORKER, runSuite, suiteEnv } from './run-suite.ts';

const a = ownerAccount();

// The trials on the owner's 32 buckets share their journals and run state, so they go one after the other; the
// other tests touch none of it (other buckets, or a run refused before any change) and go beside them.
describe('crashes, restore, and runs refused before any change', { concurrency: true }, () => {
  describe("SIGKILL on the owner's 32 buckets, one after the other", { concurrency: false }, () => {
    test('SIGINT in the teardown, and SIGKILL at every phase: `r2-cors restore` puts back what is left', async () => {
      const teardown = await a.interrupt({
        name: 'SIGINT in the teardown',
        signal: 'SIGINT',
        when: (o) => seen(o, '[r2-cors] restored owner-'),
      });
      if (teardown.left > 0)
        assert.match(
          teardown.output,
          /SIGINT during the teardown: Playwright exits now; the buckets not yet put back keep their journals: run 'npx r2-cors restore'/,
        );
      a.figures.push(`SIGINT in the teardown: ${teardown.left} bucket(s) left to 'r2-cors restore'`);
      const phases: [string, Trial['when']][] = [
        ['start', (o) => seen(o, '[r2-cors] target:')],
        ['middle', (_, journals) => until('half the journals', () => (journals() >= BUCKETS / 2 ? true : undefined))],
        ['tests', (o) => seen(o, /Set-up of \d+ case\(s\) took/)],
        ['teardown', (o) => seen(o, '[r2-cors] restored owner-')],
      ];
      for (const [phase, when] of phases) {
        const r = await a.interrupt({ name: `SIGKILL at the ${phase}`, signal: 'SIGKILL', when });
        a.figures.push(`SIGKILL at the ${phase}: ${r.left} bucket(s) left to 'r2-cors restore'`);
      }
    });
  });

  test('a live run with a bucket that does not exist, or a wrong key, stops before any test and says so', async () => {
    const cases = 'test/fixtures/selftest/cases';
    // A bucket of its own: the owner's 32 are being changed beside it.
    const [mine] = await seedOwnersBuckets(a.s3, 'lone', 1);
    const missing = await runSuite(
      liveEnvOf(a.emulatorEnv, { R2_BUCKETS: `${mine},no-such-bucket`, CORS_CASES: cases, ...ONE_WORKER }),
    );
    assert.equal(missing.code, 1);
    assert.match(
      missing.output,
      /the target cannot be used: bucket 'no-such-bucket' \(from the bucket list\) does not exist/,
    );
    assert.equal(missing.tests.size, 0);
    const wrongKey = await runSuite(
      liveEnvOf(a.emulatorEnv, { R2_BUCKETS: mine, R2_SECRET_ACCESS_KEY: 'wrong', CORS_CASES: cases, ...ONE_WORKER }),
    );
    assert.equal(wrongKey.code, 1);
    assert.match(
      wrongKey.output,
      /the target cannot be used: listing buckets: the signature was refused; check R2_SECRET_ACCESS_KEY/,
    );
  });

  test('CORS_TARGET=s3: any S3 endpoint (here the emulator) runs the S3-endpoint requests and skips the rest', async () => {
    const s3Env = {
      NODE_EXTRA_CA_CERTS: a.emulatorEnv.NODE_EXTRA_CA_CERTS,
      CORS_TARGET: 's3',
      S3_ENDPOINT: a.emulatorEnv.R2_S3_ENDPOINT,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: a.emulatorEnv.R2_ACCESS_KEY_ID,
      S3_SECRET_ACCESS_KEY: a.emulatorEnv.R2_SECRET_ACCESS_KEY,
      S3_BUCKETS: 's3-one,s3-two',
      CORS_CASES: 'test/fixtures/selftest/cases',
      ...ONE_WORKER,
    };
    const { target } = targetFromEnv(liveEnvOf(a.emulatorEnv, { R2_BUCKETS: 'x' }));
    for (const bucket of ['s3-one', 's3-two']) await target.createBucket?.(bucket);
    await target.close();
    const result = await runSuite(suiteEnv(s3Env));
    assert.equal(result.code, 0, result.output);
    assert.equal(result.tests.get('allowed-headers › custom-header')?.status, 'passed');
    assert.equal(result.tests.get('named-origin › get')?.status, 'skipped', 'no r2.dev URL without the REST API');

    // A purge step has no custom domain to purge there: it is skipped with a note, and the sequence goes on.
    const purging = await runSuite(
      suiteEnv({ ...s3Env, S3_BUCKETS: 's3-two', CORS_CASES: 'test/fixtures/selftest/s3-target' }),
    );
    assert.equal(purging.code, 0, purging.output);
    assert.equal(purging.tests.get('purge-then-s3 › on-custom')?.status, 'skipped');
    const afterPurge = purging.tests.get('purge-then-s3 › on-s3-after-purge');
    assert.equal(afterPurge?.status, 'passed', afterPurge?.error);
    assert.ok(
      afterPurge?.annotations.some(
        (note) =>
          note.type === 'skipped' &&
          note.description === 'purge (steps[2].purge) not done: the target has no custom surface for bucket s3-two',
      ),
      JSON.stringify(afterPurge?.annotations),
    );
  });
});
