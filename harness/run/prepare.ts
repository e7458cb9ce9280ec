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
import { applyAndWait, NotInEffect, type Sentinel } from './apply.ts';
import { pendingJournals, type Restored, removeJournal, restore, writeJournal } from './journal.ts';
import { describeLeftover, findLeftovers, RUN_PREFIX } from './leftovers.ts';
import type { CaseRun, RunState } from './state.ts';
import { planWaves, type Slot, slotList, type WavePlan } from './waves.ts';

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

/** What the set-up prepared: the run state (wave 1 in force), its plan, and how to prepare each later wave. */
export interface PreparedRun {
  state: RunState;
  plan: WavePlan;
  /** The run of every slot, by slot key: the state's cases, and their per-browser runs. */
  runs: Map<string, CaseRun>;
  /** Seeds and applies a later wave (0-based) on its buckets; a bucket's failure goes in its slot's run. */
  prepareWave(index: number, signal: AbortSignal): Promise<void>;
}

/**
 * Plans the run in waves as wide as the buckets allow (harness/run/waves.ts), gives every slot its bucket and
 * prefix, journals each bucket once before its first change, then seeds and applies wave 1, every slot at once.
 */
export async function prepareRun(
  cases: LoadedCase[],
  setup: TargetSetup,
  options: PrepareOptions,
): Promise<PreparedRun> {
  const { target, pool, customPool, own } = setup;
  const { runId } = options;
  // Where the harness creates buckets and none is capped (the emulator): a bucket for every slot, one wave.
  const ownsBuckets = target.createBucket !== undefined && pool.length === 0;
  const unlimited = ownsBuckets && !own;
  const plan = planWaves(cases, {
    width: unlimited ? Number.POSITIVE_INFINITY : own ? own.max : pool.length,
    customWidth: customPool.length,
    browsers: options.browsers ?? [],
  });
  const state: RunState = {
    runId,
    target: target.identity,
    kind: target.kind,
    deadlineMs: options.deadlineMs,
    cases: {},
    waves: plan.waves.length,
    order: plan.order.map((c) => c.id),
  };
  const runs = new Map<string, CaseRun>();
  for (const [w, wave] of plan.waves.entries()) {
    let general = 0;
    let custom = 0;
    for (const slot of wave) {
      const { case: c, client } = slot;
      const bucket = slot.custom
        ? customPool[custom++]
        : unlimited
          ? bucketName(client === 'all' || client === 'raw' ? c.id : `${c.id}-${client}`, runId)
          : own
            ? `${own.prefix}-${runId}-${++general}`
            : pool[general++];
      // A sequence's browser slot keeps its objects apart from the raw slot's, which may be on the same bucket.
      const browserSlot = client !== 'all' && client !== 'raw';
      const prefix = `${RUN_PREFIX}${runId}/${browserSlot ? `${client}/` : ''}${c.id}/`;
      const run: CaseRun = { id: c.id, bucket, prefix, surfaces: [], wave: w + 1 };
      runs.set(slot.key, run);
      if (browserSlot) {
        state.cases[c.id] ??= { id: c.id, bucket, prefix, surfaces: [], wave: w + 1 };
        const main = state.cases[c.id];
        main.perBrowser ??= {};
        main.perBrowser[client] = run;
      } else {
        // The raw slot of a sequence may come after none of its browser slots: keep what they set.
        run.perBrowser = state.cases[c.id]?.perBrowser;
        state.cases[c.id] = run;
      }
    }
  }

  /** Each bucket's journal, written once, before its first change (its creation, where the run creates it). */
  const journals = new Map<string, Promise<void>>();
  /** Buckets the run created and has not used yet: nothing to delete on them. */
  const fresh = new Set<string>();
  /** The sentinel each bucket holds after a simple slot's apply; unknown after a sequence, which changes it as it goes. */
  const lastSentinel = new Map<string, Sentinel>();
  const journal = (bucket: string, signal: AbortSignal) => {
    let done = journals.get(bucket);
    if (!done) {
      done = (async () => {
        const creates = ownsBuckets && !customPool.includes(bucket);
        const originalPolicy = creates ? null : await target.getPolicy(bucket);
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
        if (creates) {
          stopIfAborted(signal);
          await (target.createBucket?.(bucket) ?? Promise.resolve());
          fresh.add(bucket);
        }
      })();
      journals.set(bucket, done);
    }
    return done;
  };

  /**
   * Seeds and (first step a plain apply) applies the slots of one wave, at most 64 at a time. In the set-up a
   * target error stops every slot (the caller then puts back what was done); in a later wave, it fails its slot.
   */
  const prepareSlots = async (index: number, outer: AbortSignal | undefined, strict: boolean) => {
    const slots = plan.waves[index];
    const failed = new AbortController();
    const signal = outer ? AbortSignal.any([outer, failed.signal]) : failed.signal;
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
    const prepareSlot = async (slot: Slot) => {
      const c = slot.case;
      const run = runs.get(slot.key) as CaseRun;
      const { bucket, prefix } = run;
      try {
        await journal(bucket, signal);
        const neverHadPolicy = fresh.delete(bucket);
        const available = await target.surfaces(bucket);
        run.surfaces = [...available];
        await change(() => target.putObject(bucket, `${prefix}${PROBE_KEY}`, 'probe', 'text/plain'));
        for (const object of c.objects) {
          await change(() =>
            target.putObject(bucket, `${prefix}${object.key}`, object.bytes ?? object.body ?? '', object.contentType),
          );
        }
        // Every slot's first apply happens here, all at once, so that the waits overlap.
        const first = c.steps[0];
        const previous = lastSentinel.get(bucket);
        lastSentinel.delete(bucket);
        if (first?.kind === 'apply' && !first.rejected) {
          const { propagationMs, probes, sentinel } = await applyAndWait(target, bucket, first.policy, {
            probeKey: `${prefix}${PROBE_KEY}`,
            surfaces: surfacesUsed(c).filter((s) => available.has(s)),
            deadlineMs: options.deadlineMs,
            neverHadPolicy,
            previous,
            signal,
          });
          run.applied = { propagationMs, probes };
          run.sentinel = sentinel;
          if (sentinel && slot.client === 'all') lastSentinel.set(bucket, sentinel);
        }
      } catch (error) {
        if (error instanceof Interrupted) return;
        if (error instanceof TargetError && strict) {
          failure ??= error;
          failed.abort('a target error');
          return;
        }
        run.error = {
          kind: error instanceof NotInEffect ? 'not-in-effect' : 'setup',
          message: (error as Error).message,
        };
      }
      if (signal.aborted) return;
      done += 1;
      const note = run.error
        ? `: ${run.error.message}`
        : run.applied
          ? ` (in effect after ${run.applied.propagationMs} ms)`
          : '';
      const who = slot.client === 'all' ? c.id : `${c.id} (${slot.client})`;
      options.progress?.(`[${done}/${slots.length}] ${who} on ${bucket}${note}`);
    };
    await eachLimited(slots, 64, prepareSlot, signal);
    // Here every request sent has been answered: nothing of this wave can still change a bucket.
    if (failure) throw failure;
    stopIfAborted(outer);
    return Date.now() - started;
  };

  if (plan.waves.length > 1)
    options.progress?.(
      `${cases.length} case(s) in ${plan.waves.length} wave(s) of at most ${own ? own.max : pool.length} bucket(s)` +
        (customPool.length > 0 ? ` and ${customPool.length} with a custom domain` : '') +
        ': one Playwright run, each wave applied once every test of the one before has ended (README, "Waves")',
    );
  if (plan.waves.length > 1)
    options.progress?.(`wave 1/${plan.waves.length}: ${plan.waves[0].length} slot(s) (${slotList(plan.waves[0])})`);
  const ms = plan.waves.length > 0 ? await prepareSlots(0, options.signal, true) : 0;
  options.progress?.(`Set-up of ${cases.length} case(s) took ${(ms / 1000).toFixed(1)} s`);
  return {
    state,
    plan,
    runs,
    prepareWave: async (index, signal) => {
      await prepareSlots(index, signal, false);
    },
  };
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
