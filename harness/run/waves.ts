/**
 * Waves: with fewer buckets than the run needs, one Playwright run checks its cases in waves. A slot is what one
 * bucket serves for a wave: a simple case for every client (raw and each browser), or a sequence for one client
 * (a sequence changes its bucket's policy as it goes, so each client needs its own). Each wave holds at most as
 * many slots as there are buckets; its policies are applied at once and proven in effect, every client checks
 * the wave's slots while they are in force, then the next wave is applied on the same buckets
 * (harness/run/coordinator.ts). Where the harness creates buckets without a cap (the emulator), every slot has
 * a bucket of its own: one wave.
 *
 * The plan fixes an order of the cases, which both specs declare their tests in, such that every client meets its
 * slots' waves in order (planWaves): that is what keeps a run in waves from deadlocking.
 *
 * CORS_SHARD=i/N keeps every N-th case (a nightly job's share); the set-up and the specs both read it through
 * runCases(), so they always agree on which cases run.
 *
 * Custom-domain cases need buckets a user has attached to a domain of theirs (R2_CUSTOM_DOMAIN_BUCKETS): on a
 * live account they form a pool of their own, its waves beside the other pool's; without that variable a live
 * run leaves them out, and says so once.
 */
import type { LoadedCase } from '../cases/model.ts';
import { targetKind } from '../targets/from-env.ts';
import { TargetError } from '../targets/target.ts';
import { isSimple } from './prepare.ts';
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

/** What one bucket serves for the length of a wave: a case for every client, or a sequence for one client. */
export interface Slot {
  /** `<case-id>` for every client; `<case-id>@<client>` for a sequence's own bucket for one client. */
  key: string;
  case: LoadedCase;
  /** `all`, or the one client: `raw` or a browser project. */
  client: string;
  /** On the custom-domain pool (R2_CUSTOM_DOMAIN_BUCKETS). */
  custom: boolean;
}

export interface WavePlan {
  /** The cases in the order the specs declare them, so that every client meets them wave by wave. */
  order: LoadedCase[];
  /** The slots of each wave; a slot's position in its wave and pool is its bucket's. */
  waves: Slot[][];
}

export interface PoolWidths {
  /** Buckets of the general pool (Infinity: the run creates one per slot). */
  width: number;
  /** Buckets of the custom-domain pool; 0: no such pool, custom-domain cases go on the general one. */
  customWidth: number;
  /** The browser projects that run: a sequence changes its bucket as it goes, so each client needs its own. */
  browsers: string[];
}

/** A wave's slots for a log line: the first few keys, and how many more. */
export function slotList(slots: Slot[]): string {
  const shown = slots.slice(0, 6).map((s) => s.key);
  return `${shown.join(', ')}${slots.length > shown.length ? `, … ${slots.length - shown.length} more` : ''}`;
}

export const slotKey = (caseId: string, client: string) => (client === 'all' ? caseId : `${caseId}@${client}`);

/**
 * The slots of a case: one for every client, or a sequence's one per client (a browser's only when the sequence
 * sends a request: refusals of invalid policies are raw checks).
 */
export function slotsOf(c: LoadedCase, browsers: string[], custom: boolean): Slot[] {
  const requests = c.steps.some((s) => s.kind === 'request');
  const clients = isSimple(c) ? ['all'] : ['raw', ...(requests ? browsers : [])];
  return clients.map((client) => ({ key: slotKey(c.id, client), case: c, client, custom }));
}

/**
 * Slots in waves: each pool (general, custom-domain) holds at most its width of slots at once. The cases are taken
 * in an order that walks both pools at the pace of their widths, and no slot goes in a wave before the one of the
 * slot before it: every client's tests, declared in that order, then meet their waves in order, so a worker that
 * waits for wave k+1 never holds up a test of wave k (README, "Waves").
 */
export function planWaves(cases: LoadedCase[], widths: PoolWidths): WavePlan {
  const { width, customWidth, browsers } = widths;
  if (width < 1) throw new TargetError('a wave needs at least one bucket');
  const onCustom = (c: LoadedCase) => customWidth > 0 && needsCustomDomain(c);
  // A case comes at the share of its pool's slots before it, over the pool's width: the pools advance side by side.
  const before = new Map<LoadedCase, number>();
  const counted = [0, 0];
  for (const c of cases) {
    const pool = onCustom(c) ? 1 : 0;
    before.set(c, counted[pool]);
    counted[pool] += slotsOf(c, browsers, false).length;
  }
  const pace = (c: LoadedCase) =>
    onCustom(c) ? (before.get(c) ?? 0) / customWidth : width === Infinity ? 0 : (before.get(c) ?? 0) / width;
  const order = cases
    .map((c, i) => ({ c, i, at: pace(c) }))
    .sort((a, b) => a.at - b.at || a.i - b.i)
    .map((x) => x.c);
  const waves: Slot[][] = [];
  const used = [new Map<number, number>(), new Map<number, number>()];
  let frontier = 0;
  for (const c of order) {
    for (const slot of slotsOf(c, browsers, onCustom(c))) {
      const pool = slot.custom ? 1 : 0;
      const cap = slot.custom ? customWidth : width;
      let wave = frontier;
      while ((used[pool].get(wave) ?? 0) >= cap) wave += 1;
      used[pool].set(wave, (used[pool].get(wave) ?? 0) + 1);
      waves[wave] ??= [];
      waves[wave].push(slot);
      frontier = wave;
    }
  }
  return { order, waves };
}

/** The cases of this Playwright run: the shard's, less the custom-domain cases a live run without R2_CUSTOM_DOMAIN_BUCKETS leaves out. */
export function casesOfRun(all: LoadedCase[], env: NodeJS.ProcessEnv = process.env): LoadedCase[] {
  const shard = shardOf(all, env.CORS_SHARD);
  const leftOut = new Set(customDomainCasesLeftOut(shard, env));
  return shard.filter((c) => !leftOut.has(c));
}
