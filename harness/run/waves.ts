/**
 * Waves: with B buckets and C cases, cases run in ceil(C / B) waves of at most B, each wave one Playwright run
 * (`npm run nightly`, harness/run/nightly.ts) whose set-up applies the wave's policies at once, whose clients
 * all check the wave's cases while those policies are in force, and whose teardown puts the buckets back before
 * the next wave. The blob reports of the waves are merged into one report.
 *
 * Why one Playwright run per wave, not waves inside one run: Playwright schedules a run's tests by project and
 * file as it likes. A wave's tests must all end before the next wave's policies are applied; a test that waited
 * for its wave while earlier waves' tests sat behind it in the queue would hold a worker, and with every worker
 * so held the run would deadlock. Project dependencies cannot order waves either: a dependent project is skipped
 * when any test of its dependency fails, and a conformance failure is an ordinary outcome here. Separate runs
 * are ordered by the driver, and inside one run every test's policy is already in force: nothing waits on
 * anything that has not started, so no deadlock is possible.
 *
 * CORS_SHARD=i/N keeps every N-th case (a nightly job's share, before waves); CORS_WAVE=k/W keeps wave k of W;
 * the set-up and the specs both read them through runCases(), so they always agree on which cases run.
 *
 * Custom-domain cases need buckets a user has attached to a domain of theirs (R2_CUSTOM_DOMAIN_BUCKETS): on a
 * live account they form a pool of their own, in waves as wide as it (CORS_WAVE_CUSTOM_WIDTH), the k-th wave of
 * each pool running together; without that variable a live run leaves them out, and says so once.
 */
import type { LoadedCase } from '../cases/model.ts';
import { targetKind } from '../targets/from-env.ts';
import { TargetError } from '../targets/target.ts';
import { zoneUse } from './zone-lock.ts';

/** A case that needs a custom domain: a request on the `custom` surface, or a purge of its cache. */
export function needsCustomDomain(c: LoadedCase): boolean {
  return zoneUse(c) !== undefined;
}

/**
 * The custom-domain cases a run leaves out: on a live R2 account without R2_CUSTOM_DOMAIN_BUCKETS, all of them
 * (the harness attaches custom domains only on the emulator); none elsewhere.
 */
export function customDomainCasesLeftOut(cases: LoadedCase[], env: NodeJS.ProcessEnv = process.env): LoadedCase[] {
  // Only whether the variable lists a bucket: the target's other variables are checked (all at once) later.
  const listed = (env.R2_CUSTOM_DOMAIN_BUCKETS ?? '').split(',').some((b) => b.trim() !== '');
  if (targetKind(env) !== 'r2' || listed) return [];
  return cases.filter(needsCustomDomain);
}

/** The one note a live run without R2_CUSTOM_DOMAIN_BUCKETS gives, or undefined. */
export function customDomainNote(cases: LoadedCase[], env: NodeJS.ProcessEnv = process.env): string | undefined {
  const out = customDomainCasesLeftOut(cases, env);
  if (out.length === 0) return undefined;
  return (
    `${out.length} custom-domain case(s) skipped (${out.map((c) => c.id).join(', ')}): to run them, set ` +
    'R2_CUSTOM_DOMAIN_BUCKETS to buckets attached to a custom domain of yours (README, "Nightly against your R2 account")'
  );
}

function fraction(name: string, value: string): { index: number; of: number } {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = Number(m?.[1]);
  const of = Number(m?.[2]);
  if (!m || of < 1 || index < 1 || index > of)
    throw new TargetError(`${name} must be i/N with 1 ≤ i ≤ N, not '${value}'`);
  return { index, of };
}

/**
 * The share of one shard: every N-th case, so that each shard gets a mix of areas; except the custom-domain
 * cases, which all go to shard 1. They share the user's zone and its cache (a purge of everything reaches every
 * case that relies on it) and the one pool of R2_CUSTOM_DOMAIN_BUCKETS, which shards running at once would
 * otherwise change under each other: in one shard, the zone lock orders them (harness/run/zone-lock.ts).
 */
export function shardOf(cases: LoadedCase[], shard: string | undefined): LoadedCase[] {
  if (!shard) return cases;
  const { index, of } = fraction('CORS_SHARD', shard);
  const custom = cases.filter(needsCustomDomain);
  const spread = cases.filter((c) => !needsCustomDomain(c)).filter((_, i) => i % of === index - 1);
  return index === 1 ? cases.filter((c) => custom.includes(c) || spread.includes(c)) : spread;
}

/**
 * Cases in waves of at most `width`, in the corpus's order; with `customWidth` (R2_CUSTOM_DOMAIN_BUCKETS), the
 * custom-domain cases in waves of at most that many of their own, wave k of both pools together.
 */
export function planWaves(cases: LoadedCase[], width: number, customWidth = 0): LoadedCase[][] {
  if (width < 1) throw new TargetError('a wave needs at least one bucket');
  const cut = (list: LoadedCase[], w: number) => {
    const waves: LoadedCase[][] = [];
    for (let i = 0; i < list.length; i += w) waves.push(list.slice(i, i + w));
    return waves;
  };
  if (customWidth < 1) return cut(cases, width);
  const general = cut(
    cases.filter((c) => !needsCustomDomain(c)),
    width,
  );
  const custom = cut(cases.filter(needsCustomDomain), customWidth);
  return Array.from({ length: Math.max(general.length, custom.length) }, (_, k) => [
    ...(general[k] ?? []),
    ...(custom[k] ?? []),
  ]);
}

/**
 * The cases of this Playwright run: the shard's, less the custom-domain cases a live run without
 * R2_CUSTOM_DOMAIN_BUCKETS leaves out, then the wave's (CORS_WAVE=k/W, waves of CORS_WAVE_WIDTH and
 * CORS_WAVE_CUSTOM_WIDTH).
 */
export function casesOfRun(all: LoadedCase[], env: NodeJS.ProcessEnv = process.env): LoadedCase[] {
  const shard = shardOf(all, env.CORS_SHARD);
  const leftOut = new Set(customDomainCasesLeftOut(shard, env));
  const cases = shard.filter((c) => !leftOut.has(c));
  if (!env.CORS_WAVE) return cases;
  const { index, of } = fraction('CORS_WAVE', env.CORS_WAVE);
  const width = Number(env.CORS_WAVE_WIDTH);
  if (!Number.isInteger(width) || width < 1)
    throw new TargetError('CORS_WAVE needs CORS_WAVE_WIDTH, a whole number ≥ 1');
  const customWidth = Number(env.CORS_WAVE_CUSTOM_WIDTH ?? 0);
  if (!Number.isInteger(customWidth) || customWidth < 0)
    throw new TargetError('CORS_WAVE_CUSTOM_WIDTH must be a whole number ≥ 0');
  const waves = planWaves(cases, width, customWidth);
  if (waves.length !== of)
    throw new TargetError(
      `CORS_WAVE=${env.CORS_WAVE}: these cases make ${waves.length} wave(s) of ${width}, not ${of}`,
    );
  return waves[index - 1];
}
