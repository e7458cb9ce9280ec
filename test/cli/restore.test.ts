/**
 * A run killed (SIGKILL) between writing a journal's `.json.tmp` and renaming it leaves that file behind. Its
 * bucket was never changed (the journal comes first), so `r2-cors restore` removes the file and says so; a file
 * still being written (its run alive, or cut off less than a few seconds ago) stays. Seen in the interruption
 * self-test: "SIGKILL at the middle" left one such file, which nothing ever removed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../temp-dir.ts';
import { r2cors } from './run-cli.ts';

function journal(bucket: string, pid: number) {
  return JSON.stringify({
    version: 1,
    target: 'emulator',
    kind: 'emulator',
    bucket,
    originalPolicy: null,
    prefix: 'r2-cors-run-x/',
    runId: '20261207-abcdef',
    startedAt: new Date().toISOString(),
    pid,
  });
}

test('restore removes the journals a killed run was still writing, and leaves those being written', () => {
  const state = tempDir('r2-cors-unfinished-');
  const dir = path.join(state, 'journal');
  mkdirSync(dir);
  // A process that has ended: its pid is no run's.
  const ended = spawnSync(process.execPath, ['-e', '0']).pid as number;
  writeFileSync(path.join(dir, 'emulator--dead.json.tmp'), journal('dead', ended));
  const cut = path.join(dir, 'emulator--cut.json.tmp');
  writeFileSync(cut, journal('cut', ended).slice(0, 40));
  const minuteAgo = new Date(Date.now() - 60_000);
  utimesSync(cut, minuteAgo, minuteAgo);
  writeFileSync(path.join(dir, 'emulator--live.json.tmp'), journal('live', process.pid));
  writeFileSync(path.join(dir, 'emulator--young.json.tmp'), journal('young', ended).slice(0, 40));

  const { status, stdout, stderr } = r2cors(['restore'], undefined, {
    ...process.env,
    R2_CORS_STATE_DIR: state,
    CORS_TARGET: 'emulator',
  });
  assert.equal(status, 0, stderr);
  const lines = stdout.split('\n').filter((l) => l.startsWith('removed'));
  assert.deepEqual(lines.sort(), [
    'removed an unfinished journal of dead: its run was stopped before it changed the bucket',
    'removed an unfinished journal of emulator--cut.json.tmp: its run was stopped before it changed the bucket',
  ]);
  assert.deepEqual(readdirSync(dir).sort(), ['emulator--live.json.tmp', 'emulator--young.json.tmp']);
  assert.match(stdout, /No pending journal: nothing to restore\./);
});
