/**
 * What the set-up of a run tells its workers: which bucket and key prefix each case uses, whether its policy is
 * in effect (and how long that took), or why not. A JSON file under the state directory, named by
 * R2_CORS_RUN_STATE; no secret is in it.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Surface } from '../cases/model.ts';
import type { Sentinel } from './apply.ts';

export interface CaseRun {
  id: string;
  bucket: string;
  /** Every key of the case is written under this prefix. */
  prefix: string;
  /** Surfaces the target serves for this bucket. */
  surfaces: Surface[];
  /** Set-up result of the case's first step, when it is a plain apply (every simple case, many sequences). */
  applied?: { propagationMs: number; probes: number };
  /** The sentinel in force after that apply (harness/run/apply.ts). */
  sentinel?: Sentinel;
  error?: { kind: 'not-in-effect' | 'setup'; message: string };
  /** Sequence cases: a bucket of its own for each browser project, by project name. */
  perBrowser?: Record<string, CaseRun>;
  /** The wave (1-based) in which this slot's bucket serves it (harness/run/waves.ts). */
  wave?: number;
}

export interface RunState {
  runId: string;
  target: string;
  kind: string;
  deadlineMs: number;
  cases: Record<string, CaseRun>;
  /** How many waves the run has (1: every slot at once). */
  waves?: number;
  /** Case ids in the order the specs declare them (harness/run/waves.ts). */
  order?: string[];
}

export function stateDir(): string {
  return process.env.R2_CORS_STATE_DIR ?? '.r2-cors';
}

/**
 * Run states older than this are removed whenever a run writes its own: a run state is read only while its run
 * lasts (and by hand after it, to see what a run did), and no run lasts a week.
 */
export const RUN_STATE_KEPT_MS = 7 * 24 * 3600 * 1000;

/** Removes the run states in `dir` last written more than a week ago; returns their names. */
export function pruneRunStates(dir: string): string[] {
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json')) continue;
    const file = path.join(dir, name);
    try {
      if (Date.now() - statSync(file).mtimeMs <= RUN_STATE_KEPT_MS) continue;
      rmSync(file, { force: true });
      removed.push(name);
    } catch {
      // Removed meanwhile by another run's set-up.
    }
  }
  return removed;
}

export function writeRunState(state: RunState): string {
  const dir = path.join(stateDir(), 'run');
  mkdirSync(dir, { recursive: true });
  // One file per run: without this they would pile up, one per `npx playwright test`.
  pruneRunStates(dir);
  const file = path.resolve(dir, `${state.runId}.json`);
  writeFileSync(file, JSON.stringify(state, null, 2));
  // A wave of `npm run nightly` keeps a copy beside its blob report, where the merge's conformance report finds
  // the run's target, id and propagation times (harness/run/nightly.ts), on this machine or another.
  const copy = process.env.R2_CORS_RUN_STATE_COPY;
  if (copy) {
    mkdirSync(path.dirname(copy), { recursive: true });
    writeFileSync(copy, JSON.stringify(state, null, 2));
  }
  return file;
}

/** The run states `npm run nightly` kept beside its blob reports (`*.state.json` in `dir`), oldest first. */
export function readRunStates(dir: string): RunState[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.state.json'))
    .sort()
    .map((name) => JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as RunState);
}

let cached: RunState | undefined;

export function readRunState(): RunState {
  if (cached) return cached;
  const file = process.env.R2_CORS_RUN_STATE;
  if (!file)
    throw new Error('R2_CORS_RUN_STATE is not set: run the suite with `npx playwright test`, whose set-up prepares it');
  cached = JSON.parse(readFileSync(file, 'utf8')) as RunState;
  return cached;
}
