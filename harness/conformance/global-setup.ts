/**
 * Before any test: every case file is checked (all problems of all files at once, and nothing runs if there is
 * one), the embedded emulator is started when it is the target, the target's credentials and buckets are
 * checked (pending journals, harness leftovers), and every case gets its bucket, objects and, for simple cases,
 * its policy in effect. The run's end (every bucket put back, the emulator stopped) is handed to
 * global-teardown.ts, which Playwright also awaits after Ctrl-C in the set-up (lifecycle.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { detectBrowsers, selectedBrowsers } from '../browsers/detect.ts';
import { startPageServers } from '../browsers/page-servers.ts';
import { loadCases } from '../cases/load.ts';
import type { LoadedCase } from '../cases/model.ts';
import { FAULTS, type Fault } from '../emulator/cors.ts';
import { envFileText, type RunningEmulator, startEmulator } from '../emulator/index.ts';
import { type PropagationDelay, parseDelay } from '../emulator/store.ts';
import { Interrupted, stopIfAborted } from '../run/abort.ts';
import { shareCoordinator, startCoordinator } from '../run/coordinator.ts';
import type { Restored } from '../run/journal.ts';
import { holdRun, releaseRun } from '../run/live.ts';
import { checkJournals, checkLeftovers, checkTarget, newRunId, prepareRun, restoreRun } from '../run/prepare.ts';
import { stateDir, writeRunState } from '../run/state.ts';
import { casesOfRun, customDomainNote, shardOf } from '../run/waves.ts';
import { runsUnder, startZoneLock, zoneWideFromEnv } from '../run/zone-lock.ts';
import { formatProblem } from '../schema/problems.ts';
import { targetFromEnv, targetKind } from '../targets/from-env.ts';
import { type Target, TargetError } from '../targets/target.ts';
import { beginLifecycle, type Lifecycle } from './lifecycle.ts';
import { plainError } from './plain-error.ts';
import { casesPath, dropCases, keepCases } from './run-cases.ts';

const log = (line: string) => console.log(`[r2-cors] ${line}`);

function deadlineMs(kind: string, propagationMaxMs: number): number {
  if (process.env.CORS_PROPAGATION_DEADLINE) return Number(process.env.CORS_PROPAGATION_DEADLINE) * 1000;
  // R2: up to 30 s [doc], plus margin; the emulator: its own delay plus margin.
  return kind === 'emulator' ? propagationMaxMs + 10_000 : 45_000;
}

/**
 * Puts the run's buckets back and says so: on the emulator one line (its buckets go with it anyway), on a live
 * target one line per bucket that changed, and every bucket that could not be put back.
 */
async function putBack(target: Target, runId: string): Promise<Restored[]> {
  const restored = await restoreRun(target, runId);
  const failed = restored.filter((r) => r.failed);
  if (target.kind === 'emulator') {
    if (restored.length > failed.length)
      log(`put back the ${restored.length - failed.length} bucket(s) of run ${runId}`);
  } else {
    for (const r of restored) if (r.changed && !r.failed) log(`restored ${r.text}`);
  }
  for (const r of failed) log(`could not put back ${r.text}; its journal stays: run 'npx r2-cors restore'`);
  return restored;
}

/**
 * Signals during the run. Ctrl-C reaches Playwright too (it stops the tests and runs the teardowns); SIGTERM,
 * which Playwright's main process does not handle, is turned into the same SIGINT, so that both end a run the
 * same way. What is left to do is said at each phase.
 */
function watchSignals(onSignal: (signal: NodeJS.Signals) => void) {
  let relayed = false;
  const onInt = () => {
    if (relayed) relayed = false;
    else onSignal('SIGINT');
  };
  const onTerm = () => {
    onSignal('SIGTERM');
    relayed = true;
    process.kill(process.pid, 'SIGINT');
  };
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return () => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
}

export default async function globalSetup() {
  let lifecycle: Lifecycle;
  try {
    lifecycle = beginLifecycle();
  } catch {
    throw plainError('SIGINT before the set-up began: nothing was changed');
  }
  try {
    await setUp(lifecycle);
  } finally {
    lifecycle.settle();
  }
}

async function setUp(lifecycle: Lifecycle) {
  const { cases: all, problems, missing } = loadCases([casesPath()]);
  if (missing.length > 0) throw plainError(`CORS_CASES: no such file or folder: ${missing.join(', ')}`);
  if (problems.length > 0) {
    throw plainError(
      `${problems.length} problem(s) in the case files; nothing was run:\n${problems.map(formatProblem).join('\n')}`,
    );
  }
  if (all.length === 0) throw plainError(`no case files under ${casesPath()}`);
  let cases: LoadedCase[];
  try {
    cases = casesOfRun(all);
  } catch (error) {
    throw plainError((error as Error).message);
  }
  // CORS_ZONE_WIDE=skip or only: the set-up prepares only the cases the run runs; the specs skip the others.
  const wide = zoneWideFromEnv();
  const runs = cases.filter((c) => runsUnder(c, wide));
  const kind = targetKind();
  let propagation: PropagationDelay;
  try {
    propagation = parseDelay(process.env.R2_EMULATOR_PROPAGATION_DELAY ?? '0');
  } catch (error) {
    throw new Error(`R2_EMULATOR_PROPAGATION_DELAY: ${(error as Error).message}`);
  }
  const fault = process.env.R2_EMULATOR_FAULT as Fault | undefined;
  if (kind === 'emulator' && fault !== undefined && !FAULTS.includes(fault))
    throw new Error(`R2_EMULATOR_FAULT must be one of ${FAULTS.join(', ')}`);

  // What a signal does depends on the phase (README, "What Ctrl-C does"). In the set-up it stops the set-up:
  // no change is started after it, the requests already sent are awaited, then every bucket is put back, before
  // Playwright may exit (global-teardown.ts waits for it).
  const { stop } = lifecycle;
  let phase: 'set-up' | 'tests' | 'teardown' = 'set-up';
  let signals = 0;
  const live = kind !== 'emulator';
  const unwatch = watchSignals((signal) => {
    signals += 1;
    if (signals > 1 && phase !== 'tests') {
      log(`${signal} again: stopping now; the buckets not yet put back keep their journals: run 'npx r2-cors restore'`);
    } else if (phase === 'set-up') {
      stop.abort(signal);
      log(
        live
          ? `${signal} during the set-up: no new change is started; waiting for the requests already sent, then putting the buckets back`
          : `${signal} during the set-up: stopping`,
      );
    } else if (phase === 'tests') {
      log(`${signal} during the tests: Playwright stops them; then every bucket is put back`);
    } else if (live) {
      log(
        `${signal} during the teardown: Playwright exits now; the buckets not yet put back keep their journals: run 'npx r2-cors restore'`,
      );
    }
  });

  let emulator: RunningEmulator | undefined;
  let runId: string | undefined;
  let setup: ReturnType<typeof targetFromEnv> | undefined;
  try {
    if (kind === 'emulator') {
      emulator = await startEmulator({ propagation, fault });
      // The emulator's variables reach the workers through the environment, and other tools through its env file.
      Object.assign(process.env, emulator.env);
      mkdirSync(stateDir(), { recursive: true });
      writeFileSync(path.join(stateDir(), 'emulator.env'), envFileText(emulator.env), { mode: 0o600 });
      log(
        `emulator started (propagation delay ${propagation.min === propagation.max ? `${propagation.min} ms` : `${propagation.min}…${propagation.max} ms`}${fault ? `, fault: ${fault}` : ''})`,
      );
    }
    setup = targetFromEnv();
    const { target } = setup;
    const share = process.env.CORS_SHARD ? `shard ${process.env.CORS_SHARD}` : '';
    const left = cases.length - runs.length;
    log(
      `target: ${target.identity}; ${runs.length} case(s) from ${casesPath()}${share ? ` (${share})` : ''}` +
        (left > 0 ? `; ${left} left out by CORS_ZONE_WIDE=${wide}` : ''),
    );
    const note = customDomainNote(shardOf(all, process.env.CORS_SHARD));
    if (note) log(note);
    // Read only, before any change: credentials, buckets, pending journals, leftovers of interrupted runs.
    await checkTarget(setup);
    checkJournals(target, [...setup.pool, ...setup.customPool]);
    await checkLeftovers(target, [...setup.pool, ...setup.customPool]);
    stopIfAborted(stop.signal);
    const id = newRunId();
    runId = id;
    holdRun(id);
    const browsers = selectedBrowsers(detectBrowsers().found.map((b) => b.name));
    const prepared = await prepareRun(runs, setup, {
      runId: id,
      browsers,
      deadlineMs: deadlineMs(kind, propagation.max),
      progress: log,
      signal: stop.signal,
    });
    const { state } = prepared;
    process.env.R2_CORS_RUN_STATE = writeRunState(state);
    keepCases(all, process.env.R2_CORS_RUN_STATE);
    const pages = browsers.length > 0 ? await startPageServers(runs, target, state, setup.customPool) : undefined;
    if (pages) process.env.R2_CORS_PROXY = pages.proxy.server;
    // The custom-domain zone's readers/writer lock, for every worker (harness/run/zone-lock.ts).
    const zoneLock = await startZoneLock();
    process.env.R2_CORS_ZONE_LOCK = zoneLock.address;
    // Fewer buckets than slots: the later waves are applied as the run goes (harness/run/coordinator.ts).
    const waves =
      prepared.plan.waves.length > 1
        ? await startCoordinator({
            plan: prepared.plan,
            runs: prepared.runs,
            log,
            prepareWave: async (index, signal) => {
              await prepared.prepareWave(index, signal);
              // The reports read each slot's propagation time from the state.
              writeRunState(state);
            },
          })
        : undefined;
    shareCoordinator(waves);
    if (waves) process.env.R2_CORS_WAVES = waves.address;
    if (stop.signal.aborted) {
      await waves?.close();
      await pages?.close();
      await zoneLock.close();
    }
    stopIfAborted(stop.signal);
    phase = 'tests';
    lifecycle.teardown = async () => {
      phase = 'teardown';
      signals = 0;
      // No wave is applied after this; one being applied is awaited, so that nothing changes a bucket after.
      await waves?.close();
      shareCoordinator(undefined);
      await zoneLock.close();
      if (pages?.proxy.refused.length)
        log(`the proxy refused hosts it was not told about: ${[...new Set(pages.proxy.refused)].join(', ')}`);
      await pages?.close();
      await putBack(target, id);
      dropCases();
      releaseRun(id);
      unwatch();
      await target.close();
      await emulator?.close();
    };
  } catch (error) {
    // Whatever stopped the set-up, nothing of it is running now (prepareRun settles before it rejects).
    const restored = setup && runId && live ? await putBack(setup.target, runId) : [];
    const notBack = restored.filter((r) => r.failed).length;
    dropCases();
    if (runId) releaseRun(runId);
    unwatch();
    await setup?.target.close();
    await emulator?.close();
    if (error instanceof Interrupted)
      throw plainError(
        `${error.reason} during the set-up: stopped${
          !live || !runId
            ? ''
            : notBack > 0
              ? `; ${notBack} bucket(s) could not be put back (see above): run 'npx r2-cors restore'`
              : `; every bucket it had changed was put back (${restored.length} journaled)`
        }`,
      );
    if (error instanceof TargetError) throw plainError(`the target cannot be used: ${error.message}`);
    throw error;
  }
}
