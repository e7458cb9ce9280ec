/**
 * The `raw` project: every case × request checked with raw HTTP (harness/clients/raw.ts) against the target the
 * set-up prepared. Titles are built from ids: `<case-id> › <request-id>`. A failure points into the case file.
 */

import { type TestInfo, test } from '@playwright/test';
import type { CaseRequest, LoadedCase, PolicyRejection, Step } from '../cases/model.ts';
import { exchangeText } from '../check/exchange.ts';
import { checkHttp, type Mismatch } from '../check/expect.ts';
import { sendRaw } from '../clients/raw.ts';
import { type CorsPolicy, type DocPath, formatPath } from '../policy/model.ts';
import { ATTACHMENT, assumedResults, type Observation, observeExchange } from '../report/observation.ts';
import { isSimple } from '../run/prepare.ts';
import type { CaseRun } from '../run/state.ts';
import { PolicyRejected } from '../targets/target.ts';
import { keepCaptures, withCaptures } from './flow.ts';
import { runCases } from './run-cases.ts';
import {
  caseRun,
  failOnMismatches,
  location,
  runStep,
  waitAsAsked,
  waveTurn,
  workerTarget,
  zoneTurn,
  zoneTurnEnd,
} from './worker.ts';

async function checkRequest(c: LoadedCase, run: CaseRun, written: CaseRequest, at: DocPath, info: TestInfo) {
  // `${name}`s replaced by what earlier requests of the case captured (harness/cases/captures.ts).
  const request = withCaptures(c, run, written, at);
  test.skip(
    !run.surfaces.includes(request.surface),
    `the target has no ${request.surface} surface for bucket ${run.bucket}`,
  );
  const expect = request.expect ?? {};
  // A request that captures values still runs: the case's later requests need them.
  test.skip(
    !expect.preflight && !expect.response && !request.capture,
    'only a browser expectation: the browser projects check it',
  );
  for (const block of [expect.preflight, expect.response]) {
    if (block?.assumed) info.annotations.push({ type: 'assumed', description: block.assumed });
    for (const matcher of Object.values(block?.headers ?? {})) {
      if (typeof matcher !== 'string' && matcher.assumed)
        info.annotations.push({ type: 'assumed', description: matcher.assumed });
    }
  }
  await waitAsAsked(request);
  const exchange = await sendRaw(workerTarget(), run.bucket, run.prefix, request);
  await info.attach('exchange (redacted)', {
    body: exchangeText([
      {
        title: `preflight${exchange.preflightReasons.length ? ` (sent because ${exchange.preflightReasons.join('; ')})` : ''}`,
        leg: exchange.preflight,
      },
      { title: `${request.method} (actual request)`, leg: exchange.actual },
    ]),
    contentType: 'text/plain',
  });

  const mismatches: Mismatch[] = [];
  if (expect.preflight) {
    const blockAt = [...at, 'expect', 'preflight'];
    await test.step(
      'preflight',
      async () => {
        if (!exchange.preflight) {
          mismatches.push({
            path: blockAt,
            expected: 'a preflight',
            received:
              'none: a browser sends no preflight for this request (add sendPreflight: always to send one anyway)',
          });
          return;
        }
        mismatches.push(...checkHttp(expect.preflight ?? {}, exchange.preflight.response, blockAt));
      },
      { location: location(c, blockAt) },
    );
  }
  if (expect.response) {
    const blockAt = [...at, 'expect', 'response'];
    await test.step(
      `${request.method} response`,
      async () => {
        mismatches.push(...checkHttp(expect.response ?? {}, exchange.actual.response, blockAt));
      },
      { location: location(c, blockAt) },
    );
  }
  const { headers, body } = exchange.actual.response;
  mismatches.push(...keepCaptures(c, run, request, at, { headers, body }, 'the raw client'));
  await attachObservation(info, {
    target: workerTarget().kind,
    case: c.id,
    request: request.id,
    surface: request.surface,
    legs: observeExchange(exchange),
    assumed: assumedResults(
      c,
      [
        [...at, 'expect', 'preflight'],
        [...at, 'expect', 'response'],
      ],
      mismatches,
    ),
  });
  failOnMismatches(c, mismatches);
}

/** What was seen, for reports/observations.json and `r2-cors calibrate` (harness/report/observation.ts). */
async function attachObservation(info: TestInfo, observation: Observation) {
  await info.attach(ATTACHMENT, { body: JSON.stringify(observation), contentType: 'application/json' });
}

async function checkRejection(
  c: LoadedCase,
  run: CaseRun,
  policy: CorsPolicy,
  rejected: PolicyRejection,
  at: DocPath,
  info: TestInfo,
) {
  if (rejected.assumed) info.annotations.push({ type: 'assumed', description: rejected.assumed });
  const mismatches: Mismatch[] = [];
  const apis: ('s3' | 'rest')[] = [];
  if (rejected.s3) apis.push('s3');
  if (rejected.rest !== undefined) {
    if (workerTarget().hasRestApi) apis.push('rest');
    else
      info.annotations.push({ type: 'skipped', description: 'REST API refusal not checked: no CLOUDFLARE_API_TOKEN' });
  }
  for (const api of apis) {
    const expected = api === 's3' ? String(rejected.s3) : String(rejected.rest);
    const where = [...at.slice(0, -1), 'rejected', api];
    const before = mismatches.length;
    let answer = 'accepted';
    try {
      await workerTarget().putPolicy(run.bucket, policy, api);
      mismatches.push({
        path: where,
        expected: `refused with ${expected}`,
        received: 'accepted',
        assumed: rejected.assumed,
      });
    } catch (error) {
      if (!(error instanceof PolicyRejected)) throw error;
      answer = `${error.code} (${error.status})`;
      if (error.code !== expected) {
        mismatches.push({
          path: where,
          expected: `refused with ${expected}`,
          received: `refused with ${error.code} (${error.status})`,
          assumed: rejected.assumed,
        });
      }
    }
    await attachObservation(info, {
      target: workerTarget().kind,
      case: c.id,
      request: `${formatPath(at)} refused`,
      surface: `${api}-api`,
      legs: [],
      refusal: { api, answer },
      assumed: assumedResults(c, [[...at.slice(0, -1), 'rejected']], mismatches.slice(before)),
    });
  }
  failOnMismatches(c, mismatches);
}

const cases = runCases();
test.afterEach(({}, info) => zoneTurnEnd(info));

for (const c of cases) {
  if (isSimple(c)) {
    test.describe(c.id, () => {
      for (const step of c.steps) {
        if (step.kind !== 'request') continue;
        test(step.request.id, async ({}, info) => {
          await waveTurn(c, 'raw');
          await zoneTurn(c, step);
          const run = caseRun(c);
          if (run.applied)
            info.annotations.push({
              type: 'propagation',
              description: `policy in effect after ${run.applied.propagationMs} ms`,
            });
          await checkRequest(c, run, step.request, step.path, info);
        });
      }
    });
    continue;
  }
  // A sequence: one test per request (and per expected refusal), in order, each first doing the steps before it.
  test.describe
    .serial(c.id, () => {
      let pending: Step[] = [];
      for (const step of c.steps) {
        if (step.kind === 'request') {
          const before = pending;
          pending = [];
          test(step.request.id, async ({}, info) => {
            await waveTurn(c, 'raw');
            await zoneTurn(c, step);
            const run = caseRun(c);
            for (const s of before)
              await test.step(`${s.kind} (${formatPath(s.path)})`, () => runStep(c, run, s), {
                location: location(c, s.path),
              });
            await checkRequest(c, run, step.request, step.path, info);
          });
        } else if (step.kind === 'apply' && step.rejected && step.policy) {
          const before = pending;
          pending = [];
          const { policy, rejected } = step;
          test(`${formatPath(step.path)} refused`, async ({}, info) => {
            await waveTurn(c, 'raw');
            await zoneTurn(c, step);
            const run = caseRun(c);
            for (const s of before)
              await test.step(`${s.kind} (${formatPath(s.path)})`, () => runStep(c, run, s), {
                location: location(c, s.path),
              });
            await checkRejection(c, run, policy, rejected, step.path, info);
          });
        } else {
          pending.push(step);
        }
      }
    });
}
