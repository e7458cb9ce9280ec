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
 */
import type { LoadedCase } from '../cases/model.ts';
import { TargetError } from '../targets/target.ts';

function fraction(name: string, value: string): { index: number; of: number } {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = Number(m?.[1]);
  const of = Number(m?.[2]);
  if (!m || of < 1 || index < 1 || index > of)
    throw new TargetError(`${name} must be i/N with 1 ≤ i ≤ N, not '${value}'`);
  return { index, of };
}

/** The share of one shard: every N-th case, so that each shard gets a mix of areas. */
export function shardOf(cases: LoadedCase[], shard: string | undefined): LoadedCase[] {
  if (!shard) return cases;
  const { index, of } = fraction('CORS_SHARD', shard);
  return cases.filter((_, i) => i % of === index - 1);
}

/** Cases in waves of at most `width`, in the corpus's order. */
export function planWaves(cases: LoadedCase[], width: number): LoadedCase[][] {
  if (width < 1) throw new TargetError('a wave needs at least one bucket');
  const waves: LoadedCase[][] = [];
  for (let i = 0; i < cases.length; i += width) waves.push(cases.slice(i, i + width));
  return waves;
}

/** The cases of this Playwright run: the shard's, then the wave's (CORS_WAVE=k/W, waves of CORS_WAVE_WIDTH). */
export function casesOfRun(all: LoadedCase[], env: NodeJS.ProcessEnv = process.env): LoadedCase[] {
  const cases = shardOf(all, env.CORS_SHARD);
  if (!env.CORS_WAVE) return cases;
  const { index, of } = fraction('CORS_WAVE', env.CORS_WAVE);
  const width = Number(env.CORS_WAVE_WIDTH);
  if (!Number.isInteger(width) || width < 1)
    throw new TargetError('CORS_WAVE needs CORS_WAVE_WIDTH, a whole number ≥ 1');
  const waves = planWaves(cases, width);
  if (waves.length !== of)
    throw new TargetError(
      `CORS_WAVE=${env.CORS_WAVE}: these cases make ${waves.length} wave(s) of ${width}, not ${of}`,
    );
  return waves[index - 1];
}
