/**
 * No moment of Ctrl-C loses a user's bucket: runs on an owner's 32 buckets (interrupt-trials.ts) are interrupted
 * with SIGINT at the start of the set-up, in its middle and during the tests, plus a sweep of SIGINT delays across
 * the first seconds of the set-up; each run must settle and put every bucket back itself. Then a bucket holding
 * an older run's leftovers without a journal, and `r2-cors restore` beside a live run.
 * The teardown and SIGKILL at every phase: interrupt-crash.test.ts.
 *
 * R2_CORS_INTERRUPT_SWEEP=N runs a sweep of N delays across 2 s instead of 4 (by hand: the figures are printed).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { type CORSRule, PutBucketCorsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { BUCKETS, ownerAccount, restoreCli, seen, sleep } from './interrupt-trials.ts';
import { cliEmulator, liveEnvOf, ownerClient, seedOwnersBuckets, snapshot, until } from './live-account.ts';
import { ONE_WORKER, runSuite, startSuite } from './run-suite.ts';

const a = ownerAccount();

// The trials on the owner's 32 buckets share their journals and run state, so they go one after the other; the
// test with an account of its own goes beside them.
describe('Ctrl-C and restore', { concurrency: true }, () => {
  describe("Ctrl-C on the owner's 32 buckets, one after the other", { concurrency: false }, () => {
    test('SIGINT in the set-up, its middle, the tests: the run settles, puts every bucket back itself, and exits', async () => {
      const start = await a.interrupt({
        name: 'SIGINT at the start',
        signal: 'SIGINT',
        when: (o) => seen(o, '[r2-cors] target:'),
      });
      const middle = await a.interrupt({
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
        a.figures.push(`SIGINT at the ${name} of the set-up: exit ${r.exitMs} ms after the signal`);
      }
      assert.match(
        middle.output,
        /Error: SIGINT during the set-up: stopped; every bucket it had changed was put back \(\d+ journaled\)/,
      );
      // Each bucket put back once, after its last change: one line each, and never a bucket twice.
      const lines = middle.output.match(/restored owner-\d+/g) ?? [];
      assert.equal(new Set(lines).size, lines.length, middle.output);

      const tests = await a.interrupt({
        name: 'SIGINT during the tests',
        signal: 'SIGINT',
        when: async (o) => {
          await seen(o, /Set-up of \d+ case\(s\) took/);
          await sleep(300);
        },
      });
      assert.equal(tests.left, 0, tests.output);
      assert.match(tests.output, /SIGINT during the tests: Playwright stops them; then every bucket is put back/);
      a.figures.push(`SIGINT during the tests: exit ${tests.exitMs} ms after the signal`);
    });

    test('a sweep of SIGINT delays across the first seconds of the set-up never leaves a bucket changed', async () => {
      const count = Number(process.env.R2_CORS_INTERRUPT_SWEEP ?? 4);
      for (let i = 0; i < count; i++) {
        const delay = Math.round((i * 2000) / count);
        const r = await a.interrupt({
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
        a.figures.push(`sweep: SIGINT +${delay} ms (${phase}): exit ${r.exitMs} ms after the signal, nothing left`);
      }
    });

    test('a bucket holding harness leftovers without a journal stops the next run; restore cleans what it safely can', async () => {
      // What an interrupted run of an older harness left: a policy with the sentinel rule, and objects of its own.
      await a.s3.send(
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
      await a.s3.send(
        new PutObjectCommand({ Bucket: 'owner-02', Key: 'r2-cors-run-20260101-abcdef/x/a.txt', Body: 'a' }),
      );
      const refused = await runSuite(a.env);
      assert.equal(refused.code, 1);
      assert.equal(refused.tests.size, 0);
      assert.match(
        refused.output,
        /the target cannot be used: bucket owner-01 holds a policy left by an interrupted run \(its CORS policy: rule 1 allows origin https:\/\/r2-cors-probe-0123456789ab\.invalid, rule 1 exposes x-r2-cors-probe-0123456789ab\); run `npx r2-cors restore`, or restore it by hand\nbucket owner-02 holds objects left by an interrupted run \(1 object\(s\) under r2-cors-run-20260101-abcdef\/\); run `npx r2-cors restore`, or restore it by hand/,
      );
      assert.equal(a.journalCount(), 0, 'the refused run changed nothing');

      const first = await restoreCli(a.env);
      assert.equal(first.code, 1, first.output);
      assert.match(first.output, /cleaned owner-02: 1 object\(s\) of an interrupted run deleted/);
      assert.match(
        first.output,
        /cannot put back owner-01: its CORS policy was left by an interrupted run \(rule 1 allows origin https:\/\/r2-cors-probe-0123456789ab\.invalid, rule 1 exposes x-r2-cors-probe-0123456789ab\) and no journal recorded the policy it had before/,
      );
      const second = await restoreCli(a.env, ['--delete-leftover-policies']);
      assert.equal(second.code, 0, second.output);
      assert.match(
        second.output,
        /cleaned owner-01: the policy an interrupted run left \(rule 1 allows origin https:\/\/r2-cors-probe-0123456789ab\.invalid\) deleted/,
      );
      // The owner puts their policy back by hand, as the message says.
      const own = (a.owners['owner-01'] as { cors: CORSRule[] }).cors;
      await a.s3.send(new PutBucketCorsCommand({ Bucket: 'owner-01', CORSConfiguration: { CORSRules: own } }));
      assert.deepEqual(await snapshot(a.s3, a.buckets), a.owners);
    });
  });

  test('restore refuses beside a live run, names what it holds, and with --wait restores after it', async () => {
    // A second account where propagation takes a minute: the run is sure to be alive, holding its journals.
    const slowEnv = await cliEmulator('60s', a.children);
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
    a.children.push(run.child);
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
});
