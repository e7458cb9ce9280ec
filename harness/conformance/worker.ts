/**
 * What every spec of the suite needs in its worker: the target (from the environment the set-up prepared),
 * the case's run state, and failures written as the user should read them.
 */

import path from 'node:path';
import { test } from '@playwright/test';
import type { CaseRequest, LoadedCase, Step } from '../cases/model.ts';
import { formatMismatch, type Mismatch } from '../check/expect.ts';
import { type DocPath, formatPath } from '../policy/model.ts';
import { applyAndWait, type Sentinel } from '../run/apply.ts';
import { PROBE_KEY, surfacesUsed } from '../run/prepare.ts';
import { type CaseRun, readRunState } from '../run/state.ts';
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

/** The case's bucket and prefix; a case the set-up could not prepare fails with why. */
export function caseRun(c: LoadedCase): CaseRun {
  const run = readRunState().cases[c.id];
  if (!run) failWith(`the set-up of this run did not prepare case ${c.id}`);
  // Distinct from a wrong answer: the policy never took effect, or the bucket could not be prepared.
  if (run.error) failWith(run.error.message);
  return run;
}

/** Fails with every mismatch, each pointing into the case file; does nothing when there is none. */
export function failOnMismatches(c: LoadedCase, mismatches: Mismatch[]) {
  if (mismatches.length > 0) failWith(mismatches.map((m) => formatMismatch(c.file, c.locate(m.path), m)).join('\n\n'));
}

/** The sentinel in force on each bucket this worker changed (a later delete is proven by its disappearance). */
const sentinels = new Map<string, Sentinel | undefined>();

/** A sequence's apply or purge step, on the given run's bucket; the set-up already did a first plain apply. */
export async function runStep(c: LoadedCase, run: CaseRun, step: Step) {
  const t = workerTarget();
  if (step.kind === 'apply') {
    if (step === c.steps[0] && run.applied) return;
    const applied = await applyAndWait(t, run.bucket, step.policy, {
      probeKey: `${run.prefix}${PROBE_KEY}`,
      surfaces: surfacesUsed(c).filter((s) => run.surfaces.includes(s)),
      deadlineMs: readRunState().deadlineMs,
      previous: sentinels.has(run.bucket) ? sentinels.get(run.bucket) : run.sentinel,
    });
    sentinels.set(run.bucket, applied.sentinel);
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
    await t.purge(run.bucket, step.everything ? 'everything' : step.keys.map((k) => `${run.prefix}${k}`));
  }
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
