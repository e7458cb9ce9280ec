/**
 * The wave coordinator (harness/run/coordinator.ts) on its own, over its loopback HTTP as workers reach it: a
 * test of a later wave waits until every test of the waves before it has ended and its wave is applied; waves
 * without tests are never applied; what could hold a wave back forever is refused, saying why.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LoadedCase } from '../../harness/cases/model.ts';
import { type RunSeen, startCoordinator, waitForWave } from '../../harness/run/coordinator.ts';
import type { CaseRun } from '../../harness/run/state.ts';
import type { Slot, WavePlan } from '../../harness/run/waves.ts';

/** Four simple cases on one bucket: four waves of one slot each. */
function fourWaves(): { plan: WavePlan; runs: Map<string, CaseRun> } {
  const ids = ['w1', 'w2', 'w3', 'w4'];
  const cases = ids.map((id) => ({ id }) as LoadedCase);
  const waves: Slot[][] = cases.map((c) => [{ key: c.id, case: c, client: 'all', custom: false }]);
  const runs = new Map(ids.map((id) => [id, { id, bucket: 'one', prefix: `p/${id}/`, surfaces: ['s3'] } as CaseRun]));
  return { plan: { order: cases, waves }, runs };
}

/** A coordinator of fourWaves() whose waves apply at once, recording which it applied and what it logged. */
async function recordingCoordinator() {
  const { plan, runs } = fourWaves();
  const prepared: number[] = [];
  const logged: string[] = [];
  const coordinator = await startCoordinator({
    plan,
    runs,
    log: (line) => logged.push(line),
    prepareWave: async (index) => {
      prepared.push(index);
    },
  });
  return { coordinator, runs, prepared, logged };
}

const seen = (tests: [string, string][], extra: Partial<RunSeen> = {}): RunSeen => ({
  tests: tests.map(([caseId, client]) => ({ caseId, client })),
  workers: 2,
  projectWorkers: 2,
  retries: false,
  ...extra,
});

/** Settles to 'waiting' if the promise has not resolved within `ms`. */
const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([promise, new Promise<'waiting'>((resolve) => setTimeout(() => resolve('waiting'), ms))]);

test('a later wave waits for every test of the one before; a wave without tests is skipped', async () => {
  const { coordinator, runs, prepared } = await recordingCoordinator();
  try {
    // w3 has no test in this run (filtered out by --grep, say).
    coordinator.begin(
      seen([
        ['w1', 'raw'],
        ['w1', 'chromium'],
        ['w2', 'raw'],
        ['w4', 'raw'],
      ]),
    );
    assert.equal((await waitForWave(coordinator.address, 'w1', 'raw'))?.wave, 1);
    const second = waitForWave(coordinator.address, 'w2', 'raw');
    assert.equal(await within(second, 100), 'waiting');
    coordinator.ended({ caseId: 'w1', client: 'raw' });
    assert.equal(await within(second, 100), 'waiting', 'one test of wave 1 is still running');
    coordinator.ended({ caseId: 'w1', client: 'chromium' });
    assert.deepEqual(await second, { run: runs.get('w2'), wave: 2, waves: 4 });
    const fourth = waitForWave(coordinator.address, 'w4', 'raw');
    coordinator.ended({ caseId: 'w2', client: 'raw' });
    assert.equal((await fourth)?.wave, 4);
    assert.deepEqual(prepared, [1, 3], 'wave 3 had no test: never applied');
    // A case not in the plan (left out by CORS_ZONE_WIDE): no slot, no wait.
    assert.equal(await waitForWave(coordinator.address, 'elsewhere', 'raw'), undefined);
  } finally {
    await coordinator.close();
  }
});

for (const [what, run, message] of [
  ['retries', seen([['w1', 'raw']], { retries: true }), /retries cannot run in waves/],
  [
    'fewer workers than the projects need',
    seen([['w1', 'raw']], { workers: 1, projectWorkers: 3 }),
    /need 3 workers at once to run in waves, and Playwright has 1/,
  ],
  [
    'a test declared after one of a later wave',
    seen([
      ['w2', 'raw'],
      ['w1', 'raw'],
    ]),
    /w1 \(raw, wave 1\) is declared after w2 \(wave 2\): a harness bug/,
  ],
] as const) {
  test(`refused before any test waits: ${what}`, async () => {
    const { plan, runs } = fourWaves();
    const coordinator = await startCoordinator({ plan, runs, log: () => {}, prepareWave: async () => {} });
    try {
      coordinator.begin(run);
      // Wave 1 is in force: its tests run; a later wave's fail at once, saying why, instead of waiting forever.
      assert.equal((await waitForWave(coordinator.address, 'w1', 'raw'))?.wave, 1);
      await assert.rejects(waitForWave(coordinator.address, 'w2', 'raw'), message);
    } finally {
      await coordinator.close();
    }
  });
}

test('closing answers every waiting test, and awaits the wave being applied', async () => {
  const { plan, runs } = fourWaves();
  let applying: () => void = () => {};
  let applied = false;
  const coordinator = await startCoordinator({
    plan,
    runs,
    log: () => {},
    prepareWave: () =>
      new Promise<void>((resolve) => {
        applying = () => {
          applied = true;
          resolve();
        };
      }),
  });
  coordinator.begin(
    seen([
      ['w1', 'raw'],
      ['w3', 'raw'],
    ]),
  );
  const waiting = waitForWave(coordinator.address, 'w3', 'raw').then(
    () => 'answered with a run',
    (error: Error) => error.message,
  );
  coordinator.ended({ caseId: 'w1', client: 'raw' });
  const closed = coordinator.close();
  assert.equal(await within(closed, 100), 'waiting', 'close waits for the wave being applied');
  applying();
  await closed;
  assert.ok(applied);
  assert.match(await waiting, /the run is ending/);
});

test('an interrupted test (Ctrl-C, --max-failures) ends the waves: no further wave is applied', async () => {
  const { coordinator, prepared, logged } = await recordingCoordinator();
  try {
    coordinator.begin(
      seen([
        ['w1', 'raw'],
        ['w1', 'chromium'],
        ['w2', 'raw'],
      ]),
    );
    const second = waitForWave(coordinator.address, 'w2', 'raw').then(
      () => 'answered with a run',
      (error: Error) => error.message,
    );
    coordinator.ended({ caseId: 'w1', client: 'raw' }, true);
    assert.match(await within(second, 2000), /the run is ending: no further wave is applied/);
    // Wave 1's last test ends after the interruption: wave 2 stays unapplied.
    coordinator.ended({ caseId: 'w1', client: 'chromium' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(prepared, []);
    assert.deepEqual(logged, ['the run is stopping (a test was interrupted): no further wave is applied']);
  } finally {
    await coordinator.close();
  }
});
