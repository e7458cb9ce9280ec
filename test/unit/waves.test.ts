/**
 * The plan of a run in waves (harness/run/waves.ts): slots in waves no wider than their pool, the custom-domain
 * pool beside the general one, and an order in which every client meets its waves in order.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadCases } from '../../harness/cases/load.ts';
import type { LoadedCase } from '../../harness/cases/model.ts';
import { isSimple } from '../../harness/run/prepare.ts';
import {
  casesOfRun,
  customDomainNote,
  needsCustomDomain,
  planWaves,
  shardOf,
  type WavePlan,
} from '../../harness/run/waves.ts';
import { bucketsFromEnv } from '../../harness/targets/from-env.ts';

const all = loadCases(['cases']).cases;
const custom = all.filter(needsCustomDomain);
const live = { CORS_TARGET: 'r2', R2_BUCKETS: 'a,b,c,d' };

test('the corpus has custom-domain cases: every request on the custom surface or a purge', () => {
  assert.ok(custom.length >= 6);
  assert.ok(custom.some((c) => c.id === 'purge-everything-refreshes-headers'));
});

const browsers = ['chromium', 'firefox'];

/** Every client's slots, in the plan's order of cases, with their waves. */
function wavesByClient(plan: WavePlan) {
  const waveOf = new Map(plan.waves.flatMap((w, i) => w.map((s) => [s.key, i] as const)));
  const by = new Map<string, number[]>();
  for (const c of plan.order) {
    for (const client of ['raw', ...browsers]) {
      const key = waveOf.has(c.id) ? c.id : `${c.id}@${client}`;
      const wave = waveOf.get(key);
      if (wave === undefined) continue;
      by.set(client, [...(by.get(client) ?? []), wave]);
    }
  }
  return by;
}

for (const [width, customWidth] of [
  [4, 2],
  [1, 0],
  [1, 1],
  [3, 5],
]) {
  test(`a pool of ${width} (custom-domain pool of ${customWidth}): every slot once, no wave wider than its pool, every client meets its waves in order`, () => {
    const plan = planWaves(all, { width, customWidth, browsers });
    const slots = plan.waves.flat();
    const clients = (c: LoadedCase) => ['raw', ...(c.steps.some((s) => s.kind === 'request') ? browsers : [])];
    const expected = all.flatMap((c) => (isSimple(c) ? [c.id] : clients(c).map((b) => `${c.id}@${b}`)));
    assert.deepEqual(slots.map((s) => s.key).sort(), expected.sort());
    assert.deepEqual(plan.order.map((c) => c.id).sort(), all.map((c) => c.id).sort());
    for (const wave of plan.waves) {
      assert.ok(wave.length > 0);
      assert.ok(wave.filter((s) => s.custom).length <= customWidth);
      assert.ok(wave.filter((s) => !s.custom).length <= width);
    }
    // The custom-domain cases are on their own pool only when there is one.
    assert.equal(
      slots.some((s) => s.custom),
      customWidth > 0,
    );
    for (const [client, waves] of wavesByClient(plan))
      assert.deepEqual(
        waves,
        [...waves].sort((a, b) => a - b),
        `${client} meets a wave after a later one`,
      );
    // Both pools busy side by side: hardly more waves than the fuller pool needs (the order rounds a little).
    const general = slots.filter((s) => !s.custom).length;
    const custom = slots.length - general;
    const floor = Math.max(Math.ceil(general / width), customWidth > 0 ? Math.ceil(custom / customWidth) : 0);
    assert.ok(plan.waves.length <= Math.ceil(floor * 1.05) + 1, `${plan.waves.length} waves for a floor of ${floor}`);
  });
}

test('buckets without a cap (the emulator): one wave, every slot at once', () => {
  const plan = planWaves(all, { width: Number.POSITIVE_INFINITY, customWidth: 0, browsers });
  assert.equal(plan.waves.length, 1);
  assert.deepEqual(
    plan.order.map((c) => c.id),
    all.map((c) => c.id),
  );
});

test('a live run without R2_CUSTOM_DOMAIN_BUCKETS leaves them out, with one note; the emulator keeps them', () => {
  assert.equal(casesOfRun(all, live).length, all.length - custom.length);
  assert.match(
    customDomainNote(all, live) ?? '',
    new RegExp(`^${custom.length} custom-domain case\\(s\\) skipped \\(`),
  );
  assert.equal(customDomainNote(all, { ...live, R2_CUSTOM_DOMAIN_BUCKETS: 'd1' }), undefined);
  assert.equal(casesOfRun(all, {}).length, all.length);
  assert.equal(customDomainNote(all, {}), undefined);
});

test('a bucket in both pools is refused (by the target, which the set-up reads before any change)', () => {
  assert.throws(
    () => bucketsFromEnv({ ...live, R2_CUSTOM_DOMAIN_BUCKETS: 'b' }),
    /bucket\(s\) b are in both R2_BUCKETS and R2_CUSTOM_DOMAIN_BUCKETS/,
  );
});

test('shards: every case in exactly one shard; every custom-domain case in shard 1, the others spread', () => {
  const shards = [1, 2, 3].map((i) => shardOf(all, `${i}/3`));
  assert.deepEqual(
    shards
      .flat()
      .map((c) => c.id)
      .sort(),
    all.map((c) => c.id).sort(),
  );
  for (const c of custom) assert.ok(shards[0].includes(c), `${c.id} runs in shard 1`);
  for (const shard of shards.slice(1)) {
    assert.deepEqual(shard.filter(needsCustomDomain), []);
    assert.ok(shard.length > 0);
  }
  const others = all.length - custom.length;
  assert.equal(shards[1].length, Math.floor((others + 1) / 3));
  assert.throws(() => shardOf(all, '4/3'), /CORS_SHARD must be i\/N with 1 ≤ i ≤ N, not '4\/3'/);
});
