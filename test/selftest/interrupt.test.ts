/**
 * The harness never leaves a bucket changed: a run killed with SIGKILL in the middle of its set-up leaves a
 * journal; the next run refuses to start on that bucket; `npx r2-cors restore` puts the bucket back (its own
 * policy, none of the run's objects, the user's objects untouched).
 *
 * The bucket lives in an emulator started with `r2-cors emulator`, reached as a live R2 account
 * (CORS_TARGET=r2): the live path, pointed at the emulator.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseEnvFile } from '../../harness/emulator/index.ts';
import { targetFromEnv } from '../../harness/targets/from-env.ts';
import { ROOT } from '../cli/run-cli.ts';
import { runSuite, startSuite, suiteEnv } from './run-suite.ts';

const BIN = fileURLToPath(new URL('../../harness/cli/r2-cors.mjs', import.meta.url));
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.pid) child.kill('SIGKILL');
});

async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = 20_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `r2-cors emulator` in its own process, as a stand-in for a live account; resolves with its env file's values. */
async function cliEmulator(delay: string): Promise<Record<string, string>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'r2-cors-live-'));
  const envFile = path.join(dir, 'r2.env');
  const emulator = spawn(
    process.execPath,
    ['--', BIN, 'emulator', '--env-file', envFile, '--propagation-delay', delay],
    {
      cwd: ROOT,
      env: { ...process.env, R2_CORS_CA_DIR: path.join(dir, 'ca') },
    },
  );
  children.push(emulator);
  let output = '';
  emulator.stdout?.on('data', (d) => {
    output += d;
  });
  await until('the emulator', () => (output.includes('Press Ctrl-C') ? true : undefined));
  return parseEnvFile(readFileSync(envFile, 'utf8'));
}

/** The environment of a live run (CORS_TARGET=r2) against an emulator started with `cliEmulator`. */
function liveEnvOf(emulatorEnv: Record<string, string>, settings: Record<string, string>): NodeJS.ProcessEnv {
  return suiteEnv({ ...emulatorEnv, CORS_TARGET: 'r2', ...settings });
}

test('SIGKILL mid-run, then `r2-cors restore`: original policy back, no harness objects left', async () => {
  // An emulator where a policy change takes a minute to propagate: the run is sure to be waiting when killed.
  const emulatorEnv = await cliEmulator('60s');
  // The user's bucket, with a policy and an object of its own.
  const liveEnv = liveEnvOf(emulatorEnv, {
    R2_BUCKETS: 'users-bucket',
    CORS_CASES: 'test/fixtures/selftest/interrupt',
  });
  const { target } = targetFromEnv(liveEnv);
  await target.createBucket?.('users-bucket');
  const original = {
    rules: [
      { id: 'mine', allowedOrigins: ['https://mine.example'], allowedMethods: ['GET', 'HEAD'], maxAgeSeconds: 7 },
    ],
  };
  await target.putPolicy('users-bucket', original);
  await target.putObject('users-bucket', 'user/keep.txt', 'keep', 'text/plain');

  const run = startSuite(liveEnv);
  children.push(run.child);
  const journals = path.join(liveEnv.R2_CORS_STATE_DIR as string, 'journal');
  await until('the journal', () => (existsSync(journals) && readdirSync(journals).length > 0 ? true : undefined));
  // Killed once the run has changed the bucket (its sentinel policy is set; it waits for it to propagate).
  await until('the run to change the policy', async () =>
    (await target.getPolicy('users-bucket'))?.rules[0].id === 'mine' ? undefined : true,
  );
  await until('the run to write its objects', async () =>
    (await target.listObjects('users-bucket', 'r2-cors-run-')).length >= 2 ? true : undefined,
  );
  process.kill(-(run.child.pid as number), 'SIGKILL');
  await new Promise((resolve) => run.child.on('exit', resolve));
  assert.notDeepEqual(await target.getPolicy('users-bucket'), original, 'the killed run left the bucket changed');

  // The next run refuses to start on the bucket.
  const refused = await runSuite(liveEnv);
  assert.equal(refused.code, 1);
  assert.match(
    refused.output,
    /an earlier run did not finish and left these buckets changed:\n {2}users-bucket \(run .*\)\nRun 'npx r2-cors restore' to put them back first\./,
  );

  // restore puts it back.
  const restored = spawn(process.execPath, ['--', BIN, 'restore'], { cwd: ROOT, env: liveEnv });
  let restoreOutput = '';
  restored.stdout?.on('data', (d) => {
    restoreOutput += d;
  });
  const code = await new Promise((resolve) => restored.on('exit', resolve));
  assert.equal(code, 0, restoreOutput);
  assert.match(
    restoreOutput,
    /restored users-bucket: its policy \(1 rule\(s\)\) put back; \d+ object\(s\) under r2-cors-run-\S+\/ deleted/,
  );
  assert.deepEqual(await target.getPolicy('users-bucket'), original);
  assert.deepEqual(await target.listObjects('users-bucket', ''), ['user/keep.txt']);
  assert.deepEqual(readdirSync(journals), []);
  await target.close();
});

test('Ctrl-C during the set-up of a live run: the buckets are put back by themselves', async () => {
  const emulatorEnv = await cliEmulator('60s');
  const liveEnv = liveEnvOf(emulatorEnv, {
    R2_BUCKETS: 'first-bucket,second-bucket',
    CORS_CASES: 'test/fixtures/selftest/cases',
  });
  const { target } = targetFromEnv(liveEnv);
  const original = { rules: [{ allowedOrigins: ['https://mine.example'], allowedMethods: ['GET'] }] };
  for (const bucket of ['first-bucket', 'second-bucket']) {
    await target.createBucket?.(bucket);
    await target.putPolicy(bucket, original);
  }
  const run = startSuite(liveEnv);
  children.push(run.child);
  // Interrupted while it waits for its policies to propagate (a minute, here).
  await until('the run to change both buckets', async () => {
    const policies = await Promise.all(['first-bucket', 'second-bucket'].map((b) => target.getPolicy(b)));
    return policies.every((p) => JSON.stringify(p) !== JSON.stringify(original)) ? true : undefined;
  });
  process.kill(-(run.child.pid as number), 'SIGINT');
  await new Promise((resolve) => run.child.on('exit', resolve));
  const journals = path.join(liveEnv.R2_CORS_STATE_DIR as string, 'journal');
  await until('the buckets to be put back', () => (readdirSync(journals).length === 0 ? true : undefined));
  for (const bucket of ['first-bucket', 'second-bucket']) {
    assert.deepEqual(await target.getPolicy(bucket), original, bucket);
    assert.deepEqual(await target.listObjects(bucket, ''), [], bucket);
  }
  assert.match(run.output(), /SIGINT during the set-up: putting the buckets back \('r2-cors restore --run \S+'\)/);
  await target.close();
});

test('a live run with a bucket that does not exist, or a wrong key, stops before any test and says so', async () => {
  const emulatorEnv = await cliEmulator('0');
  const cases = 'test/fixtures/selftest/cases';
  const { target } = targetFromEnv(liveEnvOf(emulatorEnv, { R2_BUCKETS: 'x' }));
  await target.createBucket?.('real-bucket');
  await target.close();
  const missing = await runSuite(
    liveEnvOf(emulatorEnv, { R2_BUCKETS: 'real-bucket,no-such-bucket', CORS_CASES: cases }),
  );
  assert.equal(missing.code, 1);
  assert.match(
    missing.output,
    /the target cannot be used: bucket 'no-such-bucket' \(from the bucket list\) does not exist/,
  );
  assert.equal(missing.tests.size, 0);
  const wrongKey = await runSuite(
    liveEnvOf(emulatorEnv, { R2_BUCKETS: 'real-bucket', R2_SECRET_ACCESS_KEY: 'wrong', CORS_CASES: cases }),
  );
  assert.equal(wrongKey.code, 1);
  assert.match(
    wrongKey.output,
    /the target cannot be used: listing buckets: the signature was refused; check R2_SECRET_ACCESS_KEY/,
  );
  const fewBuckets = await runSuite(liveEnvOf(emulatorEnv, { R2_BUCKETS: 'real-bucket', CORS_CASES: cases }));
  assert.match(fewBuckets.output, /2 cases need 2 buckets, one each, and the bucket list has 1/);
});

test('CORS_TARGET=s3: any S3 endpoint (here the emulator) runs the S3-endpoint requests and skips the rest', async () => {
  const emulatorEnv = await cliEmulator('0');
  const s3Env = {
    NODE_EXTRA_CA_CERTS: emulatorEnv.NODE_EXTRA_CA_CERTS,
    CORS_TARGET: 's3',
    S3_ENDPOINT: emulatorEnv.R2_S3_ENDPOINT,
    S3_REGION: 'us-east-1',
    S3_ACCESS_KEY_ID: emulatorEnv.R2_ACCESS_KEY_ID,
    S3_SECRET_ACCESS_KEY: emulatorEnv.R2_SECRET_ACCESS_KEY,
    S3_BUCKETS: 's3-one,s3-two',
    CORS_CASES: 'test/fixtures/selftest/cases',
  };
  const { target } = targetFromEnv(liveEnvOf(emulatorEnv, { R2_BUCKETS: 'x' }));
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
      (a) =>
        a.type === 'skipped' &&
        a.description === 'purge (steps[2].purge) not done: the target has no custom surface for bucket s3-two',
    ),
    JSON.stringify(afterPurge?.annotations),
  );
});
