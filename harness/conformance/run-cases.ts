/**
 * The cases a Playwright run checks, read once. The set-up loads the case files (YAML, schema, policies: about
 * a second of CPU for the corpus, four for 4 copies) and leaves what it loaded in a file of the run
 * (R2_CORS_RUN_CASES, v8-serialized); the main process and every worker read that file instead of loading every
 * case file again, each a process of its own. Without a set-up (`playwright test --list`), the files are loaded.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { loadCases } from '../cases/load.ts';
import { fileLocator } from '../cases/locate-file.ts';
import type { LoadedCase } from '../cases/model.ts';
import { type RunState, readRunState } from '../run/state.ts';
import { casesOfRun } from '../run/waves.ts';

export function casesPath(): string {
  return process.env.CORS_CASES ?? 'cases';
}

let loaded: LoadedCase[] | undefined;

/** Every case under CORS_CASES (problems are the set-up's to report: a broken corpus stops it). */
export function allCases(): LoadedCase[] {
  if (loaded) return loaded;
  const cached = process.env.R2_CORS_RUN_CASES;
  loaded = cached ? readCasesFile(cached) : loadCases([casesPath()]).cases;
  return loaded;
}

/** Loaded cases as data; their `locate` reads the case file again, when first asked. */
export function writeCasesFile(cases: LoadedCase[], file: string): void {
  writeFileSync(file, serialize(cases.map(({ locate: _, ...data }) => data)));
}

export function readCasesFile(file: string): LoadedCase[] {
  const data = deserialize(readFileSync(file)) as Omit<LoadedCase, 'locate'>[];
  return data.map((c) => ({ ...c, locate: fileLocator(c.file) }));
}

/**
 * The cases this Playwright run checks: every case, or one shard's (harness/run/waves.ts), in the order of the
 * set-up's plan once there is one, so that the tests meet their waves in order. The set-up and every spec call
 * this, so that they agree.
 */
export function runCases(): LoadedCase[] {
  const cases = casesOfRun(allCases());
  const order = planOrder();
  if (!order) return cases;
  const at = new Map(order.map((id, i) => [id, i]));
  return [...cases].sort((a, b) => (at.get(a.id) ?? order.length) - (at.get(b.id) ?? order.length));
}

/** The wave (1-based) of a case's slot for every client, or of its raw slot; 1 without a plan. */
export function waveOf(c: LoadedCase): number {
  return runState()?.cases[c.id]?.wave ?? 1;
}

function planOrder(): string[] | undefined {
  return runState()?.order;
}

/** The set-up's run state, when this process runs after it (the specs are also loaded by `--list`). */
function runState(): RunState | undefined {
  return process.env.R2_CORS_RUN_STATE ? readRunState() : undefined;
}

/** Keeps the cases the set-up loaded for the rest of the run, in a file beside the run's state; the teardown drops it. */
export function keepCases(cases: LoadedCase[], stateFile: string): void {
  const file = path.join(path.dirname(stateFile), `${path.basename(stateFile, '.json')}.cases.bin`);
  writeCasesFile(cases, file);
  loaded = cases;
  process.env.R2_CORS_RUN_CASES = file;
}

export function dropCases(): void {
  if (process.env.R2_CORS_RUN_CASES) rmSync(process.env.R2_CORS_RUN_CASES, { force: true });
  delete process.env.R2_CORS_RUN_CASES;
}
