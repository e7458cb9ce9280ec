import {
  deleteOwnBucket,
  type Journal,
  pendingJournals,
  removeUnfinishedJournals,
  restore as restoreBucket,
} from '../run/journal.ts';
import { findLeftovers, type Leftover } from '../run/leftovers.ts';
import { type LiveRun, liveRuns } from '../run/live.ts';
import { type TargetSetup, targetFromEnv } from '../targets/from-env.ts';
import type { Target } from '../targets/target.ts';
import { TargetError } from '../targets/target.ts';
import { EXIT, parseOptions, UsageError } from './usage.ts';

/** Waits while a run that holds some of these journals is alive; returns the runs still alive at the end. */
async function waitForRuns(journals: Journal[], seconds: number): Promise<LiveRun[]> {
  const holding = () => liveRuns().filter((r) => journals.some((j) => j.runId === r.runId));
  const deadline = Date.now() + seconds * 1000;
  let said = false;
  for (let runs = holding(); ; runs = holding()) {
    if (runs.length === 0 || Date.now() >= deadline) return runs;
    if (!said) {
      console.log(`waiting for run(s) ${runs.map((r) => `${r.runId} (pid ${r.pid})`).join(', ')} to end…`);
      said = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Buckets to look at for leftovers: the configured list, or every bucket of the account. */
async function bucketsToScan(setup: TargetSetup): Promise<string[]> {
  return setup.pool.length > 0 ? setup.pool : await setup.target.listBuckets();
}

/**
 * Buckets a run created under R2_BUCKET_PREFIX (`<prefix>-<run id>-<n>`) that no journal covers (the machine
 * that ran it is gone, say) and no live run holds: the harness's own, so they are emptied and deleted.
 */
async function deleteOwnLeftovers(setup: TargetSetup, held: LiveRun[]): Promise<number> {
  if (!setup.own) return 0;
  const { target } = setup;
  const mine = new RegExp(`^${setup.own.prefix}-(\\d{8}-[0-9a-f]{6})-\\d+$`);
  const journaled = new Set(pendingJournals().map((j) => j.bucket));
  let failed = 0;
  for (const bucket of await target.listBuckets()) {
    const run = mine.exec(bucket)?.[1];
    if (!run || journaled.has(bucket) || held.some((r) => r.runId === run)) continue;
    try {
      const emptied = await deleteOwnBucket(target, bucket);
      console.log(`deleted ${bucket}: created by run ${run}, which left no journal here; ${emptied} with it`);
    } catch (error) {
      failed += 1;
      console.error(`could not delete ${bucket}: ${(error as Error).message}`);
    }
  }
  return failed;
}

/**
 * Deletes leftover objects and aborts leftover uploads (the harness's own prefix: safe); says what it cannot do
 * about a leftover policy.
 */
async function cleanLeftover(target: Target, l: Leftover, deletePolicies: boolean): Promise<boolean> {
  for (const u of l.uploads) await target.abortMultipart(l.bucket, u.key, u.uploadId);
  if (l.uploads.length > 0)
    console.log(`cleaned ${l.bucket}: ${l.uploads.length} open multipart upload(s) of an interrupted run aborted`);
  for (const key of l.objects) await target.deleteObject(l.bucket, key);
  if (l.objects.length > 0)
    console.log(`cleaned ${l.bucket}: ${l.objects.length} object(s) of an interrupted run deleted`);
  if (l.policyMarks.length === 0) return true;
  if (deletePolicies) {
    await target.deletePolicy(l.bucket);
    console.log(
      `cleaned ${l.bucket}: the policy an interrupted run left (${l.policyMarks[0]}) deleted; the bucket has no CORS policy now`,
    );
    return true;
  }
  console.error(
    `cannot put back ${l.bucket}: its CORS policy was left by an interrupted run (${l.policyMarks.join(', ')}) and no journal ` +
      'recorded the policy it had before, so nobody knows it any more. Set your policy again (e.g. `npx wrangler r2 bucket ' +
      `cors set ${l.bucket} --file your-policy.json\`), or delete this one with \`npx r2-cors restore --delete-leftover-policies\`.`,
  );
  return false;
}

/** `r2-cors restore`: its name, summary and help are in commands.ts. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(
    'restore',
    args,
    {
      list: { type: 'boolean' },
      run: { type: 'string' },
      wait: { type: 'string' },
      'delete-leftover-policies': { type: 'boolean' },
    },
    { positionals: false },
  );
  const wait = Number(values.wait ?? 0);
  if (!Number.isFinite(wait) || wait < 0) throw new UsageError('restore: --wait takes a number of seconds');
  let journals = pendingJournals().filter((j) => values.run === undefined || j.runId === values.run);
  if (values.list) {
    if (journals.length === 0) console.log('No pending journal.');
    const live = liveRuns();
    for (const j of journals) {
      const holder = live.find((r) => r.runId === j.runId);
      console.log(
        `${j.target}  ${j.bucket}  (run ${j.runId}, started ${j.startedAt}${holder ? `; still running, pid ${holder.pid}` : ''})`,
      );
    }
    return EXIT.ok;
  }
  // A journal cut off while written (SIGKILL): its bucket was not changed yet, so only the file goes.
  for (const bucket of removeUnfinishedJournals())
    console.log(`removed an unfinished journal of ${bucket}: its run was stopped before it changed the bucket`);
  // The embedded emulator's buckets die with it: with no journal, there is nothing to look at.
  if (journals.length === 0 && (process.env.CORS_TARGET ?? 'emulator') === 'emulator') {
    console.log('No pending journal: nothing to restore.');
    return EXIT.ok;
  }
  let setup: TargetSetup;
  try {
    setup = targetFromEnv();
  } catch (error) {
    if (error instanceof TargetError) throw new UsageError(`restore: ${error.message}`);
    throw error;
  }
  const { target } = setup;
  let failed = 0;
  try {
    const held = await waitForRuns(journals, wait);
    for (const run of held) {
      const buckets = journals.filter((j) => j.runId === run.runId).map((j) => j.bucket);
      failed += buckets.length;
      console.error(
        `run ${run.runId} (pid ${run.pid}) is still running and holds ${buckets.length} journal(s): ${buckets.join(', ')}. ` +
          'It puts them back itself when it ends; restore them after it (--wait SECONDS to wait for it).',
      );
    }
    // Journals written while waiting belong to live runs too; only those of ended runs are read again.
    journals = pendingJournals().filter(
      (j) => (values.run === undefined || j.runId === values.run) && !held.some((r) => r.runId === j.runId),
    );
    const mine = journals.filter((j) => j.target === target.identity);
    for (const j of journals)
      if (j.target !== target.identity)
        console.log(`left: ${j.bucket} belongs to ${j.target}, not to ${target.identity}`);
    if (mine.length > 0) console.log(`${mine.length} bucket(s) to put back`);
    for (const journal of mine) {
      try {
        console.log(`restored ${(await restoreBucket(target, journal)).text}`);
      } catch (error) {
        failed += 1;
        console.error(`could not restore ${journal.bucket}: ${(error as Error).message}`);
      }
    }
    if (values.run === undefined) failed += await deleteOwnLeftovers(setup, held);
    if (values.run === undefined && !setup.own) {
      const leftovers = await findLeftovers(target, await bucketsToScan(setup), pendingJournals());
      for (const l of leftovers) {
        try {
          if (!(await cleanLeftover(target, l, values['delete-leftover-policies'] === true))) failed += 1;
        } catch (error) {
          failed += 1;
          console.error(`could not clean ${l.bucket}: ${(error as Error).message}`);
        }
      }
      if (mine.length === 0 && leftovers.length === 0 && held.length === 0)
        console.log('No pending journal and no leftover: nothing to restore.');
    } else if (mine.length === 0 && held.length === 0) console.log('No pending journal: nothing left to restore.');
  } finally {
    await target.close();
  }
  if (failed > 0) console.error(`${failed} bucket(s) could not be put back.`);
  return failed > 0 ? EXIT.findings : EXIT.ok;
}
