/**
 * Which runs are alive. A run writes `<state dir>/live/<run id>.json` (its main process's pid) before its first
 * journal and removes it once every bucket is back. While that process lives, the run holds its journals:
 * `r2-cors restore` must not put a bucket back beside a set-up or a test that can still change it.
 * A lock whose process is gone (SIGKILL, a crash) is stale: its journals are free to restore.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stateDir } from './state.ts';

export interface LiveRun {
  runId: string;
  pid: number;
  startedAt: string;
}

function liveDir(): string {
  return path.join(stateDir(), 'live');
}

export function holdRun(runId: string) {
  mkdirSync(liveDir(), { recursive: true });
  const run: LiveRun = { runId, pid: process.pid, startedAt: new Date().toISOString() };
  writeFileSync(path.join(liveDir(), `${runId}.json`), JSON.stringify(run));
}

export function releaseRun(runId: string) {
  rmSync(path.join(liveDir(), `${runId}.json`), { force: true });
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs whose main process is still alive; stale locks are removed on the way. */
export function liveRuns(): LiveRun[] {
  let names: string[];
  try {
    names = readdirSync(liveDir()).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const runs: LiveRun[] = [];
  for (const name of names) {
    const file = path.join(liveDir(), name);
    let run: LiveRun;
    try {
      run = JSON.parse(readFileSync(file, 'utf8')) as LiveRun;
    } catch {
      continue;
    }
    if (run.pid !== process.pid && alive(run.pid)) runs.push(run);
    else if (run.pid !== process.pid) rmSync(file, { force: true });
  }
  return runs;
}
