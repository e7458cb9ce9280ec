/**
 * Before any test: every case file is checked (all problems of all files at once, and nothing runs if there is
 * one), the embedded emulator is started when it is the target, the target's credentials and buckets are
 * checked, and every case gets its bucket, objects and, for simple cases, its policy in effect.
 * The function it returns is the run's teardown: it puts every bucket back and stops the emulator.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadCases } from '../cases/load.ts';
import { formatProblem } from '../cases/problems.ts';
import { parseDelay } from '../cli/emulator.ts';
import { FAULTS, type Fault } from '../emulator/cors.ts';
import { envFileText, type RunningEmulator, startEmulator } from '../emulator/index.ts';
import { checkJournals, checkTarget, prepareRun, restoreRun } from '../run/prepare.ts';
import { stateDir, writeRunState } from '../run/state.ts';
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

  let emulator: RunningEmulator | undefined;
  const kind = targetKind();
  const propagation = parseDelay(process.env.R2_EMULATOR_PROPAGATION_DELAY ?? '0');
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
    const state = await prepareRun(cases, setup, { deadlineMs: deadlineMs(kind, propagation.max), progress: log });
    process.env.R2_CORS_RUN_STATE = writeRunState(state);
    return async () => {
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
