/**
 * Waves with a custom-domain pool (R2_CUSTOM_DOMAIN_BUCKETS): the custom-domain cases of the corpus are cut in
 * waves of that pool's width beside the others, and the set-up's reading (casesOfRun) agrees with the driver's.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadCases } from '../../harness/cases/load.ts';
import { casesOfRun, customDomainNote, needsCustomDomain, planWaves, shardOf } from '../../harness/run/waves.ts';
import { bucketsFromEnv } from '../../harness/targets/from-env.ts';

const all = loadCases(['cases']).cases;
const custom = all.filter(needsCustomDomain);
const live = { CORS_TARGET: 'r2', R2_BUCKETS: 'a,b,c,d' };

test('the corpus has custom-domain cases: every request on the custom surface or a purge', () => {
  assert.ok(custom.length >= 6);
  assert.ok(custom.some((c) => c.id === 'purge-everything-refreshes-headers'));
});

test('wave k holds the k-th slice of each pool; every case once', () => {
  const waves = planWaves(all, 4, 2);
  const general = all.length - custom.length;
  assert.equal(waves.length, Math.max(Math.ceil(general / 4), Math.ceil(custom.length / 2)));
  for (const wave of waves) {
    assert.ok(wave.filter(needsCustomDomain).length <= 2);
    assert.ok(wave.filter((c) => !needsCustomDomain(c)).length <= 4);
  }
  assert.deepEqual(
    waves
      .flat()
      .map((c) => c.id)
      .sort(),
    all.map((c) => c.id).sort(),
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

test("the set-up's wave is the driver's wave", () => {
  const env = { ...live, R2_CUSTOM_DOMAIN_BUCKETS: 'd1,d2' };
  const waves = planWaves(all, 4, 2);
  for (const [k, wave] of waves.entries()) {
    const ids = casesOfRun(all, {
      ...env,
      CORS_WAVE: `${k + 1}/${waves.length}`,
      CORS_WAVE_WIDTH: '4',
      CORS_WAVE_CUSTOM_WIDTH: '2',
    }).map((c) => c.id);
    assert.deepEqual(
      ids,
      wave.map((c) => c.id),
    );
  }
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
