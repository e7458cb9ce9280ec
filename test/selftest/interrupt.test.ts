/**
 * No moment of Ctrl-C or crash loses a user's bucket. A live-style account (the emulator started with
 * `r2-cors emulator --env-file`, reached with CORS_TARGET=r2, a 1 s propagation delay) holds 32 buckets whose
 * owner gave each a policy and objects through the AWS SDK. Runs are interrupted with SIGINT or SIGKILL at the
 * start of the set-up, in its middle, during the tests and in the teardown, plus a sweep of SIGINT delays across
 * the first seconds of the set-up. After each: `npx r2-cors restore` when journals are left, then every bucket
 * must be exactly as its owner left it (policy, objects and their ETags), and nothing pending.
 *
 * R2_CORS_INTERRUPT_SWEEP=N runs a sweep of N delays across 2 s instead of 4 (by hand: the figures are printed).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CORSRule, PutBucketCorsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { loadCases } from '../../harness/cases/load.ts';
import { targetFromEnv } from '../../harness/targets/from-env.ts';
import { ROOT } from '../cli/run-cli.ts';
import {
  BIN,
  cliEmulator,
  liveEnvOf,
  ownerClient,
  seedOwnersBuckets,
  snapshot,
  until,
  writeCases,
} from './live-account.ts';
import { ONE_WORKER, runSuite, startSuite, suiteEnv } from './run-suite.ts';

const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.pid && child.exitCode === null) child.kill('SIGKILL');
});

/** `npx r2-cors restore …` as a user runs it; its whole output once it has exited. */
function restoreCli(
  env: NodeJS.ProcessEnv,
  args: string[] = [],
  progress?: (output: string) => void,
): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--', BIN, 'restore', ...args], { cwd: ROOT, env });
  let output = '';
  const read = (d: Buffer) => {
    output += d;
    progress?.(output);
  };
  child.stdout?.on('data', read);
  child.stderr?.on('data', read);
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

const BUCKETS = 32;
let s3: S3Client;
let buckets: string[];
let owners: Record<string, unknown>;
let env: NodeJS.ProcessEnv;
let emulatorEnv: Record<string, string>;

before(async () => {
  emulatorEnv = await cliEmulator('1s', children);
  s3 = ownerClient(emulatorEnv);
  buckets = await seedOwnersBuckets(s3, 'owner', BUCKETS);
  owners = await snapshot(s3, buckets);
  const cases = writeCases(BUCKETS);
  assert.equal(loadCases([cases]).cases.length, BUCKETS);
  env = liveEnvOf(emulatorEnv, { R2_BUCKETS: buckets.join(','), CORS_CASES: cases, ...ONE_WORKER });
});

interface Trial {
  name: string;
  signal: 'SIGINT' | 'SIGKILL';
  /** Resolves when the signal is due. */
  when: (output: () => string, journals: () => number) => Promise<unknown>;
  /** Extra checks while the run is alive, just before the signal. */
  meanwhile?: () => Promise<void>;
}

const journalDir = () => path.join(env.R2_CORS_STATE_DIR as string, 'journal');
const journalCount = () => (existsSync(journalDir()) ? readdirSync(journalDir()).length : 0);
const seen = (output: () => string, text: string | RegExp) =>
  until(`'${text}' in the run's output`, () =>
    (typeof text === 'string' ? output().includes(text) : text.test(output())) ? true : undefined,
  );
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One interrupted run, then `r2-cors restore` if it left journals, then every bucket compared with its owner's. */
async function interrupt(t: Trial) {
  const run = startSuite(env);
  children.push(run.child);
  const exited = new Promise<number | null>((resolve) => run.child.on('exit', (code) => resolve(code)));
  await Promise.race([t.when(run.output, journalCount), exited]);
  assert.equal(run.child.exitCode, null, `${t.name}: the run ended before the signal:\n${run.output()}`);
  await t.meanwhile?.();
  const sent = Date.now();
  process.kill(-(run.child.pid as number), t.signal);
  const code = await exited;
  const exitMs = Date.now() - sent;
  const left = journalCount();
  let restored = '';
  if (left > 0) {
    const r = await restoreCli(env);
    assert.equal(r.code, 0, `${t.name}: restore failed:\n${r.output}\nrun:\n${run.output()}`);
    restored = r.output;
  }
  assert.deepEqual(
    await snapshot(s3, buckets),
    owners,
    `${t.name}: a bucket is not as its owner left it\n${run.output()}\n${restored}`,
  );
  assert.equal(journalCount(), 0, t.name);
  return { code, exitMs, left, output: run.output() };
}

const figures: string[] = [];
after(() => {
  if (figures.length > 0) console.log(`interruption figures (this machine, one run each):\n${figures.join('\n')}`);
});

// The trials on the owner's 32 buckets share their journals and run state, so they go one after the other; the
// other tests touch none of it (an account of their own, other buckets, or a run refused before any change) and
// go beside them.
describe('interrupted runs and restore', { concurrency: true }, () => {
  describe("Ctrl-C and crashes on the owner's 32 buckets, one after the other", { concurrency: false }, () => {
    test('SIGINT in the set-up, its middle, the tests: the run settles, puts every bucket back itself, and exits', async () => {
      const start = await interrupt({
        name: 'SIGINT at the start',
        signal: 'SIGINT',
        when: (o) => seen(o, '[r2-cors] target:'),
      });
      const middle = await interrupt({
        name: 'SIGINT in the middle of the set-up',
        signal: 'SIGINT',
        when: (_, journals) => until('half the journals', () => (journals() >= BUCKETS / 2 ? true : undefined)),
      });
      for (const [name, r] of [
        ['start', start],
        ['middle', middle],
      ] as const) {
        assert.equal(r.left, 0, `SIGINT at the ${name} left journals:\n${r.output}`);
        assert.equal(r.code, 130, r.output);
        assert.match(
          r.output,
          /SIGINT during the set-up: (no new change is started; waiting for the requests already sent, then putting the buckets back|stopping)/,
        );
        assert.doesNotMatch(r.output, /again|keep their journals/);
        figures.push(`SIGINT at the ${name} of the set-up: exit ${r.exitMs} ms after the signal`);
      }
      assert.match(
        middle.output,
        /Error: SIGINT during the set-up: stopped; every bucket it had changed was put back \(\d+ journaled\)/,
      );
      // Each bucket put back once, after its last change: one line each, and never a bucket twice.
      const lines = middle.output.match(/restored owner-\d+/g) ?? [];
      assert.equal(new Set(lines).size, lines.length, middle.output);

      const tests = await interrupt({
        name: 'SIGINT during the tests',
        signal: 'SIGINT',
        when: async (o) => {
          await seen(o, /Set-up of \d+ case\(s\) took/);
          await sleep(300);
        },
      });
      assert.equal(tests.left, 0, tests.output);
      assert.match(tests.output, /SIGINT during the tests: Playwright stops them; then every bucket is put back/);
      figures.push(`SIGINT during the tests: exit ${tests.exitMs} ms after the signal`);
    });

    test('SIGINT in the teardown, and SIGKILL at every phase: `r2-cors restore` puts back what is left', async () => {
      const teardown = await interrupt({
        name: 'SIGINT in the teardown',
        signal: 'SIGINT',
        when: (o) => seen(o, '[r2-cors] restored owner-'),
      });
      if (teardown.left > 0)
        assert.match(
          teardown.output,
          /SIGINT during the teardown: Playwright exits now; the buckets not yet put back keep their journals: run 'npx r2-cors restore'/,
        );
      figures.push(`SIGINT in the teardown: ${teardown.left} bucket(s) left to 'r2-cors restore'`);
      const phases: [string, Trial['when']][] = [
        ['start', (o) => seen(o, '[r2-cors] target:')],
        ['middle', (_, journals) => until('half the journals', () => (journals() >= BUCKETS / 2 ? true : undefined))],
        ['tests', (o) => seen(o, /Set-up of \d+ case\(s\) took/)],
        ['teardown', (o) => seen(o, '[r2-cors] restored owner-')],
      ];
      for (const [phase, when] of phases) {
        const r = await interrupt({ name: `SIGKILL at the ${phase}`, signal: 'SIGKILL', when });
        figures.push(`SIGKILL at the ${phase}: ${r.left} bucket(s) left to 'r2-cors restore'`);
      }
    });

    test('a sweep of SIGINT delays across the first seconds of the set-up never leaves a bucket changed', async () => {
      const count = Number(process.env.R2_CORS_INTERRUPT_SWEEP ?? 4);
      for (let i = 0; i < count; i++) {
        const delay = Math.round((i * 2000) / count);
        const r = await interrupt({
          name: `SIGINT ${delay} ms after the target line`,
          signal: 'SIGINT',
          when: async (o) => {
            await seen(o, '[r2-cors] target:');
            await sleep(delay);
          },
        });
        // Interrupted in the set-up, the run puts everything back itself; later, the teardown does.
        assert.equal(r.left, 0, `SIGINT ${delay} ms after the target line left journals:\n${r.output}`);
        const phase = /during the (set-up|tests)/.exec(r.output)?.[1] ?? 'teardown';
        figures.push(`sweep: SIGINT +${delay} ms (${phase}): exit ${r.exitMs} ms after the signal, nothing left`);
      }
    });

    test('a bucket holding harness leftovers without a journal stops the next run; restore cleans what it safely can', async () => {
      // What an interrupted run of an older harness left: a policy with the sentinel rule, and objects of its own.
      await s3.send(
        new PutBucketCorsCommand({
          Bucket: 'owner-01',
          CORSConfiguration: {
            CORSRules: [
              {
                AllowedOrigins: ['https://r2-cors-probe-0123456789ab.invalid'],
                AllowedMethods: ['GET'],
                ExposeHeaders: ['x-r2-cors-probe-0123456789ab'],
              },
              { AllowedOrigins: ['*'], AllowedMethods: ['GET'] },
            ],
          },
        }),
      );
      await s3.send(
        new PutObjectCommand({ Bucket: 'owner-02', Key: 'r2-cors-run-20260101-abcdef/x/a.txt', Body: 'a' }),
      );
      const refused = await runSuite(env);
      assert.equal(refused.code, 1);
      assert.equal(refused.tests.size, 0);
      assert.match(
        refused.output,
        /the target cannot be used: bucket owner-01 holds a policy left by an interrupted run \(its CORS policy: rule 1 allows origin https:\/\/r2-cors-probe-0123456789ab\.invalid, rule 1 exposes x-r2-cors-probe-0123456789ab\); run `npx r2-cors restore`, or restore it by hand\nbucket owner-02 holds objects left by an interrupted run \(1 object\(s\) under r2-cors-run-20260101-abcdef\/\); run `npx r2-cors restore`, or restore it by hand/,
      );
      assert.equal(journalCount(), 0, 'the refused run changed nothing');

      const first = await restoreCli(env);
      assert.equal(first.code, 1, first.output);
      assert.match(first.output, /cleaned owner-02: 1 object\(s\) of an interrupted run deleted/);
      assert.match(
        first.output,
        /cannot put back owner-01: its CORS policy was left by an interrupted run \(rule 1 allows origin https:\/\/r2-cors-probe-0123456789ab\.invalid, rule 1 exposes x-r2-cors-probe-0123456789ab\) and no journal recorded the policy it had before/,
      );
      const second = await restoreCli(env, ['--delete-leftover-policies']);
      assert.equal(second.code, 0, second.output);
      assert.match(
        second.output,
        /cleaned owner-01: the policy an interrupted run left \(rule 1 allows origin https:\/\/r2-cors-probe-0123456789ab\.invalid\) deleted/,
      );
      // The owner puts their policy back by hand, as the message says.
      const own = (owners['owner-01'] as { cors: CORSRule[] }).cors;
      await s3.send(new PutBucketCorsCommand({ Bucket: 'owner-01', CORSConfiguration: { CORSRules: own } }));
      assert.deepEqual(await snapshot(s3, buckets), owners);
    });
  });

  test('restore refuses beside a live run, names what it holds, and with --wait restores after it', async () => {
    // A second account where propagation takes a minute: the run is sure to be alive, holding its journals.
    const slowEnv = await cliEmulator('60s', children);
    const slowS3 = ownerClient(slowEnv);
    const mine = await seedOwnersBuckets(slowS3, 'slow', 2);
    const before = await snapshot(slowS3, mine);
    const liveEnv = liveEnvOf(slowEnv, {
      R2_BUCKETS: mine.join(','),
      CORS_CASES: 'test/fixtures/selftest/cases',
      CORS_PROPAGATION_DEADLINE: '600',
      ...ONE_WORKER,
    });
    const run = startSuite(liveEnv);
    children.push(run.child);
    const journals = path.join(liveEnv.R2_CORS_STATE_DIR as string, 'journal');
    await until('both journals', () => (existsSync(journals) && readdirSync(journals).length === 2 ? true : undefined));
    const refused = await restoreCli(liveEnv);
    assert.equal(refused.code, 1, refused.output);
    assert.match(
      refused.output,
      /run \S+ \(pid \d+\) is still running and holds 2 journal\(s\): slow-0[12], slow-0[12]\. It puts them back itself when it ends; restore them after it \(--wait SECONDS to wait for it\)\./,
    );
    let said = '';
    const waiting = restoreCli(liveEnv, ['--wait', '600'], (output) => {
      said = output;
    });
    await until('restore to wait', () => (said.includes('waiting for run') ? true : undefined));
    process.kill(-(run.child.pid as number), 'SIGINT');
    const waited = await waiting;
    assert.equal(waited.code, 0, waited.output);
    assert.match(waited.output, /^waiting for run\(s\) \S+ \(pid \d+\) to end…\n/);
    assert.match(waited.output, /No pending journal and no leftover: nothing to restore\./);
    assert.deepEqual(await snapshot(slowS3, mine), before);
  });

  test('a live run with a bucket that does not exist, or a wrong key, stops before any test and says so', async () => {
    const cases = 'test/fixtures/selftest/cases';
    // A bucket of its own: the owner's 32 are being changed beside it.
    const [mine] = await seedOwnersBuckets(s3, 'lone', 1);
    const missing = await runSuite(
      liveEnvOf(emulatorEnv, { R2_BUCKETS: `${mine},no-such-bucket`, CORS_CASES: cases, ...ONE_WORKER }),
    );
    assert.equal(missing.code, 1);
    assert.match(
      missing.output,
      /the target cannot be used: bucket 'no-such-bucket' \(from the bucket list\) does not exist/,
    );
    assert.equal(missing.tests.size, 0);
    const wrongKey = await runSuite(
      liveEnvOf(emulatorEnv, { R2_BUCKETS: mine, R2_SECRET_ACCESS_KEY: 'wrong', CORS_CASES: cases, ...ONE_WORKER }),
    );
    assert.equal(wrongKey.code, 1);
    assert.match(
      wrongKey.output,
      /the target cannot be used: listing buckets: the signature was refused; check R2_SECRET_ACCESS_KEY/,
    );
  });

  test('CORS_TARGET=s3: any S3 endpoint (here the emulator) runs the S3-endpoint requests and skips the rest', async () => {
    const s3Env = {
      NODE_EXTRA_CA_CERTS: emulatorEnv.NODE_EXTRA_CA_CERTS,
      CORS_TARGET: 's3',
      S3_ENDPOINT: emulatorEnv.R2_S3_ENDPOINT,
      S3_REGION: 'us-east-1',
      S3_ACCESS_KEY_ID: emulatorEnv.R2_ACCESS_KEY_ID,
      S3_SECRET_ACCESS_KEY: emulatorEnv.R2_SECRET_ACCESS_KEY,
      S3_BUCKETS: 's3-one,s3-two',
      CORS_CASES: 'test/fixtures/selftest/cases',
      ...ONE_WORKER,
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
});
