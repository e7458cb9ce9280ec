/**
 * What every spec of the suite needs in its worker: the target (from the environment the set-up prepared),
 * the case's run state, and failures written as the user should read them.
 */

import path from 'node:path';
import { type TestInfo, test } from '@playwright/test';
import type { CaseRequest, LoadedCase, Step } from '../cases/model.ts';
import { formatMismatch, type Mismatch } from '../check/expect.ts';
import { type DocPath, formatPath } from '../policy/model.ts';
import { applyAndWait, type Sentinel } from '../run/apply.ts';
import { waitForWave } from '../run/coordinator.ts';
import { isSimple, PROBE_KEY, surfacesUsed } from '../run/prepare.ts';
import { type CaseRun, readRunState } from '../run/state.ts';
import { slotKey } from '../run/waves.ts';
import { runsUnder, ZoneLockClient, type ZoneMode, zoneUse, zoneWideFromEnv } from '../run/zone-lock.ts';
import { targetFromEnv } from '../targets/from-env.ts';
import type { Target } from '../targets/target.ts';

let target: Target | undefined;

/** The target, made once per worker. */
export function workerTarget(): Target {
  target ??= targetFromEnv().target;
  return target;
}

/** Fails the test with exactly this text: no stack, which would point into the harness, not the case. */
export function failWith(text: string): never {
  const error = new Error(text);
  error.stack = text;
  throw error;
}

/** The runs of slots this worker waited for, by slot key (waves only). */
const waveRuns = new Map<string, CaseRun>();

/**
 * In a run in waves (harness/run/coordinator.ts), waits until the wave of the case's slot for `client` is in
 * force, and keeps its run for `caseRun`; without waves, returns at once. Call it first in every test, before
 * the zone turn: a test holding the zone must never wait for a wave. The wait does not count against the test's
 * timeout (nor a batch's), and is noted when it is long.
 */
export async function waveTurn(c: LoadedCase, client: string, info: TestInfo = test.info()) {
  const address = process.env.R2_CORS_WAVES;
  const key = slotKey(c.id, isSimple(c) ? 'all' : client);
  if (!address || waveRuns.has(key)) return;
  const timeout = info.timeout;
  if (timeout > 0) info.setTimeout(timeout + WAVE_WAIT_MS);
  const started = Date.now();
  let found: Awaited<ReturnType<typeof waitForWave>>;
  try {
    found = await waitForWave(address, c.id, client);
  } catch (error) {
    failWith(`waiting for this case's wave: ${(error as Error).message}`);
  }
  const waited = Date.now() - started;
  if (timeout > 0) info.setTimeout(timeout + waited);
  if (!found) return;
  waveRuns.set(key, found.run);
  info.annotations.push({
    type: 'wave',
    description: `wave ${found.wave}/${found.waves}${waited >= 1000 ? `, after waiting ${waited} ms for it` : ''}`,
  });
}

/** How long a test may wait for its wave: the waves before it must end first, whatever their number. */
const WAVE_WAIT_MS = 24 * 3600_000;

/**
 * The bucket and prefix of the case's slot for `client` (a sequence has one per client where buckets allow;
 * undefined where it has none for a browser); a slot the set-up could not prepare fails with why.
 */
export function slotRun(c: LoadedCase, client: string): CaseRun | undefined {
  const found = peekRun(c, client);
  if (!found.prepared) failWith(`the set-up of this run did not prepare case ${c.id}`);
  // Distinct from a wrong answer: the policy never took effect, or the bucket could not be prepared.
  if (found.run?.error) failWith(found.run.error.message);
  return found.run;
}

/** The slot's run as `slotRun` finds it, without failing; `prepared`: the set-up knows the case. */
export function peekRun(c: LoadedCase, client: string): { run?: CaseRun; prepared: boolean } {
  const simple = isSimple(c);
  const waved = waveRuns.get(slotKey(c.id, simple ? 'all' : client));
  const main = readRunState().cases[c.id];
  const run = waved ?? (simple || client === 'raw' ? main : main?.perBrowser?.[client]);
  return { run, prepared: main !== undefined || waved !== undefined };
}

/** The case's bucket and prefix for the raw client, or every client of a simple case. */
export function caseRun(c: LoadedCase, client = 'raw'): CaseRun {
  const run = slotRun(c, client);
  if (!run) failWith(`the set-up of this run did not prepare case ${c.id} for ${client}`);
  return run;
}

/** Fails with every mismatch, each pointing into the case file; does nothing when there is none. */
export function failOnMismatches(c: LoadedCase, mismatches: Mismatch[]) {
  if (mismatches.length > 0) failWith(mismatches.map((m) => formatMismatch(c.file, c.locate(m.path), m)).join('\n\n'));
}

/**
 * The sentinel in force on each bucket this worker changed (a later delete is proven by its disappearance), by
 * bucket and slot: in waves, a later wave's slot on the same bucket starts from what the set-up applied.
 */
const sentinels = new Map<string, Sentinel | undefined>();
const bucketOf = (run: CaseRun) => `${run.bucket} ${run.prefix}`;

/** A sequence's apply or purge step, on the given run's bucket; the set-up already did a first plain apply. */
export async function runStep(c: LoadedCase, run: CaseRun, step: Step) {
  const t = workerTarget();
  if (step.kind === 'apply') {
    if (step === c.steps[0] && run.applied) return;
    const applied = await applyAndWait(t, run.bucket, step.policy, {
      probeKey: `${run.prefix}${PROBE_KEY}`,
      surfaces: surfacesUsed(c).filter((s) => run.surfaces.includes(s)),
      deadlineMs: readRunState().deadlineMs,
      previous: sentinels.has(bucketOf(run)) ? sentinels.get(bucketOf(run)) : run.sentinel,
    });
    sentinels.set(bucketOf(run), applied.sentinel);
    test.info().annotations.push({
      type: 'propagation',
      description: `${formatPath(step.path)} in effect after ${applied.propagationMs} ms`,
    });
  } else if (step.kind === 'purge') {
    // Without a custom domain (an S3 target, no API token) there is no cache to purge; its requests are skipped.
    if (!run.surfaces.includes('custom')) {
      test.info().annotations.push({
        type: 'skipped',
        description: `purge (${formatPath(step.path)}) not done: the target has no custom surface for bucket ${run.bucket}`,
      });
      return;
    }
    // Everything: the whole zone, every case's custom domain (the case holds the zone alone, see zoneTurn).
    // Keys: only this run's copies of the case's own objects, which no other case requests.
    await t.purge(run.bucket, step.everything ? 'everything' : step.keys.map((k) => `${run.prefix}${k}`));
  }
}

let zoneLock: ZoneLockClient | undefined;
/** The case this worker holds the custom-domain zone for, and how. */
let zoneHeld: { caseId: string; mode: ZoneMode } | undefined;
/** Whether the running test ends its case's hold (its last step touching the zone, or a simple case's request). */
let zoneTurnEnds = false;

/**
 * The custom-domain zone, taken as the case's data says (harness/run/zone-lock.ts), before the test that runs
 * `step` (a request, or a refusal, with the apply and purge steps before it). A sequence holds it from the test
 * of its first step touching the zone to the test of its last one, since a response cached by one request is
 * observed by a later one; a simple case holds it for each custom-surface request alone. Call it first in
 * every test; `zoneTurnEnd`, called from `test.afterEach`, gives it back. Waiting for the zone does not
 * count against the test's timeout; past that timeout again, the test fails naming who holds the zone.
 */
export async function zoneTurn(c: LoadedCase, step: Step) {
  zoneLock ??= ZoneLockClient.fromEnv();
  // A hold left by an earlier case of this worker (its last test filtered out, say) ends here.
  if (zoneHeld && zoneHeld.caseId !== c.id) {
    await zoneLock.release();
    zoneHeld = undefined;
  }
  zoneTurnEnds = false;
  const use = zoneUse(c);
  const wide = zoneWideFromEnv();
  // Not prepared by the set-up either (runsUnder): the test says why and stops before it reads the case's bucket.
  test.skip(
    !runsUnder(c, wide),
    wide === 'skip'
      ? 'purges the whole custom-domain zone: left to the run with CORS_ZONE_WIDE=only'
      : 'CORS_ZONE_WIDE=only: only cases that purge the whole zone',
  );
  if (!use) return;
  const i = c.steps.indexOf(step);
  if (isSimple(c)) {
    if (!(step.kind === 'request' && step.request.surface === 'custom')) return;
    zoneTurnEnds = true;
  } else {
    // Runs a step of the window [first, last]: its own, or one of the steps before it since the last request.
    let previous = i - 1;
    while (previous >= 0 && c.steps[previous].kind !== 'request') previous -= 1;
    if (i < use.first || previous >= use.last) return;
    zoneTurnEnds = i >= use.last;
  }
  if (zoneHeld) return;
  const info = test.info();
  const timeout = info.timeout;
  const waitMs = timeout > 0 ? timeout : Number(process.env.CORS_TEST_TIMEOUT ?? 180) * 1000;
  if (timeout > 0) info.setTimeout(timeout + waitMs);
  const started = Date.now();
  const who = `${c.id} [${info.project.name}, worker ${info.parallelIndex}]`;
  const grant = await zoneLock.acquire(use.mode, who, waitMs);
  const waited = Date.now() - started;
  if (timeout > 0) info.setTimeout(timeout + waited);
  if (!grant.granted) {
    failWith(
      `waited ${Math.round(waitMs / 1000)} s for the custom-domain zone (${use.mode === 'exclusive' ? 'alone: this case purges the whole zone' : 'shared'}); ` +
        `held or awaited by: ${grant.holders.join('; ') || '(nobody any more)'}`,
    );
  }
  if (waited >= 1000)
    info.annotations.push({
      type: 'zone',
      description: `waited ${waited} ms for the custom-domain zone (${use.mode})`,
    });
  zoneHeld = { caseId: c.id, mode: use.mode };
}

/** `test.afterEach(({}, info) => zoneTurnEnd(info))`: gives the zone back after the test that ends the case's hold, or a failed one. */
export async function zoneTurnEnd(info: TestInfo) {
  if (!zoneHeld || !zoneLock) return;
  if (zoneTurnEnds || info.status !== info.expectedStatus) {
    await zoneLock.release();
    zoneHeld = undefined;
  }
  zoneTurnEnds = false;
}

/** Where a path of the case file is, for `test.step(…, { location })`: the HTML report then points into it. */
export function location(c: LoadedCase, at: DocPath) {
  const { line, col } = c.locate(at);
  return { file: path.resolve(c.file), line, column: col };
}

/** A request's `delaySeconds` (to let a preflight cache entry expire, say), waited once before it is sent. */
export async function waitAsAsked(request: CaseRequest) {
  if (request.delaySeconds) await new Promise((resolve) => setTimeout(resolve, (request.delaySeconds ?? 0) * 1000));
}
