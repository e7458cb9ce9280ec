/**
 * The set-up of a run, before any test: check the target, refuse pending journals, give each case a bucket,
 * journal it, seed its objects, and apply every simple case's policy at once, so that the waits for
 * propagation overlap instead of adding up.
 */
import { createHash, randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { usesCaptures } from '../cases/captures.ts';
import type { LoadedCase, Surface } from '../cases/model.ts';
import type { TargetSetup } from '../targets/from-env.ts';
import { type Target, TargetError } from '../targets/target.ts';
import { Interrupted, stopIfAborted } from './abort.ts';
import { applyAndWait, NotInEffect } from './apply.ts';
import { pendingJournals, type Restored, removeJournal, restore, writeJournal } from './journal.ts';
import { describeLeftover, findLeftovers, RUN_PREFIX } from './leftovers.ts';
import type { CaseRun, RunState } from './state.ts';
import { needsCustomDomain } from './waves.ts';

export const PROBE_KEY = '__r2-cors-probe';

export interface PrepareOptions {
  runId: string;
  /** Browser projects that will run: a sequence case gets a bucket for each. */
  browsers?: string[];
  deadlineMs: number;
  /** Called with a line of progress for people. */
  progress?: (line: string) => void;
  /**
   * Stops the set-up (Ctrl-C): no change is started after it fires, and prepareRun rejects with Interrupted only
   * once every request it had sent has been answered, so that the buckets can then be put back for good.
   */
  signal?: AbortSignal;
}

export function newRunId(): string {
  return `${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`;
}

/** A bucket name for a case on a target where the harness creates buckets: readable, unique, ≤ 63 chars. */
function bucketName(caseId: string, runId: string): string {
  const hash = createHash('sha256').update(`${runId}/${caseId}`).digest('hex').slice(0, 8);
  return `${caseId.slice(0, 50).replace(/-+$/, '')}-${hash}`;
}

/** Runs `work` over `items`, at most `limit` at a time; takes no new item once `signal` has fired. */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>, signal?: AbortSignal) {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(limit, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined && !signal?.aborted; item = queue.shift()) await work(item);
    }),
  );
}

/**
 * One policy applied first, then only requests: the set-up applies it once for every client. A case whose
 * requests hand values on (captures) is a sequence whatever its form: its requests run in order, in one worker.
 */
export function isSimple(c: LoadedCase): boolean {
  const [first, ...rest] = c.steps;
  return first?.kind === 'apply' && !first.rejected && rest.every((s) => s.kind === 'request') && !usesCaptures(c);
}

/** Surfaces a case's requests use. */
export function surfacesUsed(c: LoadedCase): Surface[] {
  const used = new Set<Surface>(['s3']);
  for (const step of c.steps) if (step.kind === 'request') used.add(step.request.surface);
  return [...used];
}

/** Stops a run that would touch a bucket an earlier, unfinished run changed. */
export function checkJournals(target: Target, buckets: string[]) {
  const pending = pendingJournals();
  if (target.kind === 'emulator') {
    // An emulator's buckets die with it: journals of earlier emulators are stale, not pending.
    for (const j of pending) if (j.kind === 'emulator' && j.target !== target.identity) removeJournal(j);
  }
  const blocking = pending.filter(
    (j) => j.target === target.identity && (buckets.length === 0 || buckets.includes(j.bucket)),
  );
  if (blocking.length > 0) {
    const list = blocking.map((j) => `  ${j.bucket} (run ${j.runId}, started ${j.startedAt})`).join('\n');
    throw new TargetError(
      `an earlier run did not finish and left these buckets changed:\n${list}\nRun 'npx r2-cors restore' to put them back first.`,
    );
  }
}

/**
 * Stops a run that would record a harness leftover as a bucket's original: a policy with the harness's marks, or
 * objects under its prefix, on a bucket no journal covers (harness/run/leftovers.ts). Reads only.
 */
export async function checkLeftovers(target: Target, buckets: string[]) {
  const leftovers = await findLeftovers(target, buckets, pendingJournals());
  if (leftovers.length > 0) throw new TargetError(leftovers.map(describeLeftover).join('\n'));
}

export async function checkTarget(setup: TargetSetup) {
  const { target, pool, customPool } = setup;
  await target.listBuckets();
  for (const bucket of [...pool, ...customPool]) {
    if (!(await target.bucketExists(bucket)))
      throw new TargetError(`bucket '${bucket}' (from the bucket list) does not exist on ${target.identity}`);
  }
  for (const bucket of customPool) {
    if (!(await target.surfaces(bucket)).has('custom'))
      throw new TargetError(
        `bucket '${bucket}' (R2_CUSTOM_DOMAIN_BUCKETS) has no custom domain the REST API reports: attach one ` +
          '(dashboard: the bucket, Settings, Custom Domains) and set CLOUDFLARE_API_TOKEN, or take it off the list',
      );
  }
}

export async function prepareRun(cases: LoadedCase[], setup: TargetSetup, options: PrepareOptions): Promise<RunState> {
  const { target, pool, customPool } = setup;
  const { runId } = options;
  const ownsBuckets = target.createBucket !== undefined && pool.length === 0;
  // With R2_CUSTOM_DOMAIN_BUCKETS the custom-domain cases take their buckets from that pool, the others from theirs.
  const onCustomPool = (c: LoadedCase) => customPool.length > 0 && needsCustomDomain(c);
  const customCases = cases.filter(onCustomPool);
  const general = cases.filter((c) => !onCustomPool(c));
  if (customCases.length > customPool.length) {
    throw new TargetError(
      `${customCases.length} custom-domain cases need ${customCases.length} buckets and R2_CUSTOM_DOMAIN_BUCKETS has ` +
        `${customPool.length}: run them in waves with \`npm run nightly\`, or add buckets to it.`,
    );
  }
  if (setup.own && general.length > setup.own.max) {
    throw new TargetError(
      `${general.length} cases need ${general.length} buckets and R2_MAX_BUCKETS is ${setup.own.max}: ` +
        `run them in waves of ${setup.own.max} with \`npm run nightly\`, or raise R2_MAX_BUCKETS.`,
    );
  }
  if (!ownsBuckets && pool.length < general.length) {
    throw new TargetError(
      `${general.length} cases need ${general.length} buckets, one each, and the bucket list has ${pool.length}. ` +
        `Run them in waves of ${pool.length} with \`npm run nightly\`, add buckets to R2_BUCKETS (or S3_BUCKETS), ` +
        'or run fewer cases (CORS_CASES=cases/some/folder).',
    );
  }
  const state: RunState = {
    runId,
    target: target.identity,
    kind: target.kind,
    deadlineMs: options.deadlineMs,
    cases: {},
  };
  // A target error in one bucket stops the others too, as Ctrl-C does: the caller then puts back what was done.
  const failed = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, failed.signal]) : failed.signal;
  // Every bucket's wait listens to it: as many listeners as buckets at once, not a leak.
  setMaxListeners(0, signal);
  let failure: TargetError | undefined;
  /** Every change goes through here: none starts once the set-up is stopped. */
  const change = <T>(work: () => Promise<T>): Promise<T> => {
    stopIfAborted(signal);
    return work();
  };
  const started = Date.now();
  let done = 0;
  /** Journals, seeds and (first step a plain apply) applies one bucket for a case; failures go in the run. */
  const prepareBucket = async (c: LoadedCase, run: CaseRun) => {
    const { bucket, prefix } = run;
    const creates = ownsBuckets && !customPool.includes(bucket);
    try {
      const originalPolicy = creates ? null : await target.getPolicy(bucket);
      // The journal comes before the first change (the bucket's creation, where the run creates it).
      stopIfAborted(signal);
      writeJournal({
        version: 1,
        target: target.identity,
        kind: target.kind,
        bucket,
        originalPolicy,
        prefix: `${RUN_PREFIX}${runId}/`,
        runId,
        startedAt: new Date().toISOString(),
        pid: process.pid,
        created: creates || undefined,
      });
      if (creates) await change(() => target.createBucket?.(bucket) ?? Promise.resolve());
      const available = await target.surfaces(bucket);
      run.surfaces = [...available];
      await change(() => target.putObject(bucket, `${prefix}${PROBE_KEY}`, 'probe', 'text/plain'));
      for (const object of c.objects) {
        await change(() =>
          target.putObject(bucket, `${prefix}${object.key}`, object.bytes ?? object.body ?? '', object.contentType),
        );
      }
      // Every case's first apply happens here, all at once, so that the waits overlap.
      const first = c.steps[0];
      if (first?.kind === 'apply' && !first.rejected) {
        const { propagationMs, probes, sentinel } = await applyAndWait(target, bucket, first.policy, {
          probeKey: `${prefix}${PROBE_KEY}`,
          surfaces: surfacesUsed(c).filter((s) => available.has(s)),
          deadlineMs: options.deadlineMs,
          neverHadPolicy: creates,
          signal,
        });
        run.applied = { propagationMs, probes };
        run.sentinel = sentinel;
      }
    } catch (error) {
      if (error instanceof Interrupted) return;
      if (error instanceof TargetError) {
        failure ??= error;
        failed.abort('a target error');
        return;
      }
      run.error = { kind: error instanceof NotInEffect ? 'not-in-effect' : 'setup', message: (error as Error).message };
    }
  };
  await eachLimited(
    cases,
    64,
    async (c) => {
      const prefix = `${RUN_PREFIX}${runId}/${c.id}/`;
      const index = general.indexOf(c);
      const bucket = onCustomPool(c)
        ? customPool[customCases.indexOf(c)]
        : setup.own
          ? `${setup.own.prefix}-${runId}-${index + 1}`
          : ownsBuckets
            ? bucketName(c.id, runId)
            : pool[index];
      const run: CaseRun = { id: c.id, bucket, prefix, surfaces: [] };
      state.cases[c.id] = run;
      // A sequence changes its bucket as it goes, so each browser needs a bucket of its own (where the harness
      // owns buckets; on a live pool, sequences are checked raw only).
      const others: Promise<void>[] = [];
      if (!isSimple(c) && ownsBuckets && !setup.own && options.browsers?.length) {
        run.perBrowser = {};
        for (const browser of options.browsers) {
          const own: CaseRun = {
            id: c.id,
            bucket: bucketName(`${c.id}-${browser}`, runId),
            prefix,
            surfaces: [],
          };
          run.perBrowser[browser] = own;
          others.push(prepareBucket(c, own));
        }
      }
      await Promise.all([prepareBucket(c, run), ...others]);
      if (signal.aborted) return;
      done += 1;
      const note = run.error
        ? `: ${run.error.message}`
        : run.applied
          ? ` (in effect after ${run.applied.propagationMs} ms)`
          : '';
      options.progress?.(`[${done}/${cases.length}] ${c.id} on ${bucket}${note}`);
    },
    signal,
  );
  // Here every request the set-up sent has been answered: nothing of it can still change a bucket.
  if (failure) throw failure;
  stopIfAborted(signal);
  options.progress?.(`Set-up of ${cases.length} case(s) took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return state;
}

/**
 * Puts every bucket of the run back (policy and objects) and removes their journals. Call it only once nothing
 * of the run can change a bucket any more (prepareRun settled, workers gone): each bucket is put back once.
 */
export async function restoreRun(target: Target, runId: string, progress?: (restored: Restored) => void) {
  const journals = pendingJournals().filter((j) => j.runId === runId && j.target === target.identity);
  const restored: Restored[] = [];
  await eachLimited(journals, 16, async (j) => {
    let r: Restored;
    try {
      r = await restore(target, j);
    } catch (error) {
      r = { bucket: j.bucket, changed: true, failed: true, text: `${j.bucket}: ${(error as Error).message}` };
    }
    restored.push(r);
    progress?.(r);
  });
  return restored;
}
