import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pruneRunStates, RUN_STATE_KEPT_MS, writeRunState } from '../../harness/run/state.ts';
import { tempDir } from '../temp-dir.ts';

const DAY = 24 * 3600 * 1000;

function stateFile(dir: string, name: string, ageMs: number): string {
  const file = path.join(dir, name);
  writeFileSync(file, '{}');
  const when = (Date.now() - ageMs) / 1000;
  utimesSync(file, when, when);
  return file;
}

test('run states older than a week are removed; newer ones and other files stay', () => {
  const dir = tempDir('r2-cors-run-states-');
  stateFile(dir, '20261101-aaaaaa.json', 30 * DAY);
  stateFile(dir, '20261129-bbbbbb.json', RUN_STATE_KEPT_MS + 60_000);
  stateFile(dir, '20261204-cccccc.json', 3 * DAY);
  stateFile(dir, 'notes.txt', 30 * DAY);
  assert.deepEqual(pruneRunStates(dir).sort(), ['20261101-aaaaaa.json', '20261129-bbbbbb.json']);
  assert.deepEqual(readdirSync(dir).sort(), ['20261204-cccccc.json', 'notes.txt']);
});

test("a run's state write prunes the folder, and its own file stays", () => {
  const stateDir = tempDir('r2-cors-state-');
  const dir = path.join(stateDir, 'run');
  mkdirSync(dir);
  const previous = process.env.R2_CORS_STATE_DIR;
  process.env.R2_CORS_STATE_DIR = stateDir;
  try {
    const old = stateFile(dir, '20261101-aaaaaa.json', 30 * DAY);
    const file = writeRunState({
      runId: '20261207-dddddd',
      target: 'emulator',
      kind: 'emulator',
      deadlineMs: 1000,
      cases: {},
    });
    assert.equal(existsSync(old), false, 'the month-old run state is gone');
    assert.deepEqual(readdirSync(dir), ['20261207-dddddd.json']);
    assert.equal(existsSync(file), true);
  } finally {
    if (previous === undefined) delete process.env.R2_CORS_STATE_DIR;
    else process.env.R2_CORS_STATE_DIR = previous;
  }
});
