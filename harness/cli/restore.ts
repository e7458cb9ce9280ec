import { pendingJournals, restore as restoreBucket } from '../run/journal.ts';
import { targetFromEnv } from '../targets/from-env.ts';
import { TargetError } from '../targets/target.ts';
import { type Command, EXIT, parseOptions, UsageError } from './usage.ts';

export const restore: Command = {
  name: 'restore',
  summary: 'put back buckets an interrupted run left changed',
  help: `Usage: r2-cors restore [--list] [--run ID]

Before the harness changes a bucket it writes a journal (in .r2-cors/journal, or R2_CORS_STATE_DIR/journal):
the bucket's original CORS policy and the prefix its objects go under. A run that ends normally puts the
bucket back itself. After a crash, a killed runner or a lost machine, this command does it: for every pending
journal of the target configured in the environment (CORS_TARGET, R2_* or S3_* variables, as for a run), it
puts the original policy back (or deletes the policy if there was none), deletes every object under the
run's prefix, and removes the journal. Journals of other targets are listed and left alone.

  --list     only list pending journals
  --run ID   only the journals of run ID (what a run interrupted in its set-up starts by itself)

Exit status: 0 nothing left to restore, 1 a bucket could not be restored, 2 usage or configuration error.`,
  async run(args) {
    const { values } = parseOptions(
      'restore',
      args,
      {
        list: { type: 'boolean' },
        run: { type: 'string' },
      },
      { positionals: false },
    );
    const journals = pendingJournals().filter((j) => values.run === undefined || j.runId === values.run);
    if (journals.length === 0) {
      console.log('No pending journal: nothing to restore.');
      return EXIT.ok;
    }
    if (values.list) {
      for (const j of journals) console.log(`${j.target}  ${j.bucket}  (run ${j.runId}, started ${j.startedAt})`);
      return EXIT.ok;
    }
    let setup: ReturnType<typeof targetFromEnv>;
    try {
      setup = targetFromEnv();
    } catch (error) {
      if (error instanceof TargetError) throw new UsageError(`restore: ${error.message}`);
      throw error;
    }
    const { target } = setup;
    let failed = 0;
    try {
      for (const journal of journals) {
        if (journal.target !== target.identity) {
          console.log(`left: ${journal.bucket} belongs to ${journal.target}, not to ${target.identity}`);
          continue;
        }
        try {
          console.log(`restored ${await restoreBucket(target, journal)}`);
        } catch (error) {
          failed += 1;
          console.error(`could not restore ${journal.bucket}: ${(error as Error).message}`);
        }
      }
    } finally {
      await target.close();
    }
    return failed > 0 ? EXIT.findings : EXIT.ok;
  },
};
