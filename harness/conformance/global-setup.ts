/**
 * Before any test: every case file is checked (all problems of all files at once, and nothing runs if there is
 * one), the embedded emulator is started when it is the target, the target's credentials and buckets are
 * checked, and every case gets its bucket, objects and, for simple cases, its policy in effect.
 * The function it returns is the run's teardown: it puts every bucket back and stops the emulator.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectBrowsers } from '../browsers/detect.ts';
import { startPageServers } from '../browsers/page-servers.ts';
import { loadCases } from '../cases/load.ts';
import { FAULTS, type Fault } from '../emulator/cors.ts';
import { envFileText, type RunningEmulator, startEmulator } from '../emulator/index.ts';
import { type PropagationDelay, parseDelay } from '../emulator/store.ts';
import { checkJournals, checkTarget, newRunId, prepareRun, restoreRun } from '../run/prepare.ts';
import { stateDir, writeRunState } from '../run/state.ts';
import { startZoneLock, zoneWideFromEnv } from '../run/zone-lock.ts';
import { formatProblem } from '../schema/problems.ts';
import { targetFromEnv, targetKind } from '../targets/from-env.ts';
import { TargetError } from '../targets/target.ts';

const log = (line: string) => console.log(`[r2-cors] ${line}`);

export function casesPath(): string {
  return process.env.CORS_CASES ?? 'cases';
}

function deadlineMs(kind: string, propagationMaxMs: number): number {
  if (process.env.CORS_PROPAGATION_DEADLINE) return Number(process.env.CORS_PROPAGATION_DEADLINE) * 1000;
  // R2: up to 30 s [doc], plus margin; the emulator: its own delay plus margin.
  return kind === 'emulator' ? propagationMaxMs + 10_000 : 45_000;
}

export default async function globalSetup() {
  const { cases, problems, missing } = loadCases([casesPath()]);
  if (missing.length > 0) throw new Error(`CORS_CASES: no such file or folder: ${missing.join(', ')}`);
  if (problems.length > 0) {
    throw new Error(
      `${problems.length} problem(s) in the case files; nothing was run:\n${problems.map(formatProblem).join('\n')}`,
    );
  }
  if (cases.length === 0) throw new Error(`no case files under ${casesPath()}`);
  zoneWideFromEnv();

  let emulator: RunningEmulator | undefined;
  const kind = targetKind();
  let propagation: PropagationDelay;
  try {
    propagation = parseDelay(process.env.R2_EMULATOR_PROPAGATION_DELAY ?? '0');
  } catch (error) {
    throw new Error(`R2_EMULATOR_PROPAGATION_DELAY: ${(error as Error).message}`);
  }
  if (kind === 'emulator') {
    const fault = process.env.R2_EMULATOR_FAULT as Fault | undefined;
    if (fault !== undefined && !FAULTS.includes(fault))
      throw new Error(`R2_EMULATOR_FAULT must be one of ${FAULTS.join(', ')}`);
    emulator = await startEmulator({ propagation, fault });
    // The emulator's variables reach the workers through the environment, and other tools through its env file.
    Object.assign(process.env, emulator.env);
    mkdirSync(stateDir(), { recursive: true });
    writeFileSync(path.join(stateDir(), 'emulator.env'), envFileText(emulator.env), { mode: 0o600 });
    log(
      `emulator started (propagation delay ${propagation.min === propagation.max ? `${propagation.min} ms` : `${propagation.min}…${propagation.max} ms`}${fault ? `, fault: ${fault}` : ''})`,
    );
  }

  try {
    const setup = targetFromEnv();
    log(`target: ${setup.target.identity}; ${cases.length} case(s) from ${casesPath()}`);
    await checkTarget(setup);
    checkJournals(setup.target, setup.pool);
    const runId = newRunId();
    // Ctrl-C during the set-up: Playwright stops at once and runs no teardown (there is none until the set-up
    // returns), so a separate process puts back what was changed so far. The emulator's buckets go with it.
    const interrupted = (signal: NodeJS.Signals) => {
      if (setup.target.kind === 'emulator') return;
      log(`${signal} during the set-up: putting the buckets back ('r2-cors restore --run ${runId}')`);
      const cli = fileURLToPath(new URL('../cli/r2-cors.mjs', import.meta.url));
      spawn(process.execPath, ['--', cli, 'restore', '--run', runId], { detached: true, stdio: 'inherit' }).unref();
    };
    process.once('SIGINT', interrupted);
    process.once('SIGTERM', interrupted);
    const browsers = detectBrowsers().found.map((b) => b.name);
    const state = await prepareRun(cases, setup, {
      runId,
      browsers,
      deadlineMs: deadlineMs(kind, propagation.max),
      progress: log,
    });
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    process.env.R2_CORS_RUN_STATE = writeRunState(state);
    const pages = browsers.length > 0 ? await startPageServers(cases, setup.target, state) : undefined;
    if (pages) process.env.R2_CORS_PROXY = pages.proxy.server;
    // The custom-domain zone's readers/writer lock, for every worker (harness/run/zone-lock.ts).
    const zoneLock = await startZoneLock();
    process.env.R2_CORS_ZONE_LOCK = zoneLock.address;
    return async () => {
      await zoneLock.close();
      if (pages?.proxy.refused.length)
        log(`the proxy refused hosts it was not told about: ${[...new Set(pages.proxy.refused)].join(', ')}`);
      await pages?.close();
      await restoreRun(setup.target, state.runId, (line) => log(`restored ${line}`));
      await setup.target.close();
      await emulator?.close();
    };
  } catch (error) {
    await emulator?.close();
    if (error instanceof TargetError) throw new Error(`the target cannot be used: ${error.message}`);
    throw error;
  }
}
