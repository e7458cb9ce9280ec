/**
 * Cases share a browser context per worker (harness/browsers/isolation.ts): isolated by construction, and shown
 * here with checks that a leak would flip. One worker, so that the cases run in turn in one browser.
 *  - A case leaves a preflight cache entry for its URL (MaxAgeSeconds 600, cache mode default); the next case,
 *    from the same page, must send a preflight of its own. It does, because its URL is its own; with the harness
 *    broken on purpose to give both cases the same URLs (CORS_BROWSER_FAULT=same-urls), Chromium answers it from
 *    the cache and the check fails, pointing into the case file.
 *  - An emulator that sets a cookie on every CORS response (R2_EMULATOR_FAULT=set-cookie): the credentialed case
 *    gets a context of its own, and the shared context the next case uses holds no cookie. With every case in the
 *    shared context (CORS_BROWSER_CONTEXT=worker), Firefox keeps the cookie and the next check fails, naming it.
 *    (Chromium stores no third-party cookie in Playwright's contexts at all, so there the jar stays empty.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectBrowsers } from '../../harness/browsers/detect.ts';
import { batchSizeFromEnv, contextMode, ownContextReason, wantsOwnContext } from '../../harness/browsers/isolation.ts';
import { loadCases } from '../../harness/cases/load.ts';
import { runSuite, suiteEnv } from './run-suite.ts';

const browsers = detectBrowsers({ ...process.env, CORS_BROWSERS: undefined }).found.map((b) => b.name);
const FIXTURES = 'test/fixtures/selftest/isolation';
const skip = browsers.length === 0 && 'no browser installed';

test('which cases get a context of their own is decided from the case data', () => {
  const { cases } = loadCases([`${FIXTURES}/cookies`]);
  const [credentialed, plain] = cases;
  assert.equal(
    ownContextReason(credentialed),
    'with-credentials sends credentials: the cookies it sends and is answered with must not reach other cases',
  );
  assert.equal(ownContextReason(plain), undefined);
  const [video] = loadCases(['cases/markup/video-without-crossorigin-taints-canvas.yaml']).cases;
  assert.equal(
    ownContextReason(video),
    "first-frame loads a <video>: whether its canvas is tainted must not depend on other cases' media elements",
  );
  assert.deepEqual(
    (['auto', 'case', 'worker'] as const).map((mode) => cases.map((c) => wantsOwnContext(c, mode))),
    [
      [true, false],
      [true, true],
      [false, false],
    ],
  );
  assert.equal(contextMode({}), 'auto');
  assert.deepEqual(
    [
      batchSizeFromEnv('auto', {}),
      batchSizeFromEnv('case', {}),
      batchSizeFromEnv('worker', { CORS_BROWSER_BATCH: '1' }),
    ],
    [12, 1, 1],
  );
  assert.throws(
    () => batchSizeFromEnv('case', { CORS_BROWSER_BATCH: '4' }),
    new Error(
      'CORS_BROWSER_BATCH=4: with CORS_BROWSER_CONTEXT=case every case has a context of its own, so checks are made one at a time',
    ),
  );
  assert.throws(
    () => batchSizeFromEnv('auto', { CORS_BROWSER_BATCH: '0' }),
    new Error('CORS_BROWSER_BATCH=0: expected a whole number of cases, 1 or more'),
  );
  assert.throws(
    () => contextMode({ CORS_BROWSER_CONTEXT: 'per-case' }),
    new Error('CORS_BROWSER_CONTEXT=per-case: expected one of auto, case, worker'),
  );
});

function observation(result: Awaited<ReturnType<typeof runSuite>>, title: string) {
  const t = result.tests.get(title);
  assert.ok(t, `${title} ran: ${[...result.tests.keys()].join(', ')}\n${result.output}`);
  return { ...t, observed: JSON.parse(t.attachments['browser observation'] ?? '{}') };
}

test('cases share a context, yet a preflight cache entry of one case never answers the next', { skip }, async () => {
  const result = await runSuite(
    suiteEnv({ CORS_CASES: FIXTURES, CORS_WORKERS: '1', R2_EMULATOR_FAULT: 'set-cookie' }),
    browsers,
  );
  assert.equal(result.code, 0, result.output);
  for (const browser of browsers) {
    const a = observation(result, `[${browser}] warm-preflight-a › get`);
    const b = observation(result, `[${browser}] warm-preflight-b › get`);
    assert.equal(a.workerIndex, b.workerIndex, `${browser}: both cases in one worker`);
    // Made in one batch (README, "Batches"), where these two take turns: the proof holds on the default path.
    assert.equal(a.observed.batch, 4, `${browser}: the four cases batched`);
    assert.equal(b.observed.batch, 4, browser);
    for (const t of [a, b]) {
      assert.equal(t.status, 'passed', browser);
      assert.equal(t.observed.context, 'shared', browser);
      assert.equal(t.observed.preflight, 'sent', `${browser}: each case's own preflight reached the emulator`);
    }
    const credentialed = observation(result, `[${browser}] cookie-1-credentialed › with-credentials`);
    const plain = observation(result, `[${browser}] cookie-2-plain › without-credentials`);
    assert.equal(credentialed.workerIndex, plain.workerIndex, `${browser}: both cases in one worker`);
    assert.equal(credentialed.observed.context, 'own', `${browser}: a credentialed case gets a context of its own`);
    assert.equal(credentialed.observed.batch, 4, `${browser}: a credentialed case is batched, in a context of its own`);
    assert.equal(plain.observed.context, 'shared', browser);
    // Read after every check of the batch, the credentialed one's included.
    assert.deepEqual(plain.observed.sharedCookies, [], `${browser}: the shared context was read, and holds no cookie`);
  }
});

test('a harness that gives two cases the same URLs is caught', { skip }, async () => {
  const result = await runSuite(
    suiteEnv({
      CORS_CASES: `${FIXTURES}/preflight-cache`,
      CORS_WORKERS: '1',
      CORS_BROWSER_FAULT: 'same-urls',
    }),
    browsers,
  );
  assert.equal(result.code, 1, result.output);
  for (const browser of browsers) {
    const a = observation(result, `[${browser}] warm-preflight-a › get`);
    const b = observation(result, `[${browser}] warm-preflight-b › get`);
    assert.equal(a.status, 'passed', browser);
    assert.equal(b.observed.preflight, 'cached', `${browser}: the second case's preflight came from the cache`);
    if (browser === 'firefox') {
      // Firefox's preflight-cache results are notes, not failures (README, "Browsers"): the note names it.
      assert.ok(
        b.annotations.some((n) => n.description === 'firefox preflight cache: expected sent, observed cached'),
        JSON.stringify(b.annotations),
      );
      continue;
    }
    assert.equal(b.status, 'failed', browser);
    assert.equal(
      b.error,
      'Error: --> test/fixtures/selftest/isolation/preflight-cache/warm-preflight-b.yaml:31:20  requests[0].expect.browser.preflight\n' +
        'expected: sent\nreceived: cached',
    );
  }
});

test('a credentialed case in the shared context leaves its cookie there, and the next check fails', {
  skip: !browsers.includes('firefox') && 'Firefox is not installed',
}, async () => {
  const result = await runSuite(
    suiteEnv({
      CORS_CASES: `${FIXTURES}/cookies`,
      CORS_WORKERS: '1',
      CORS_BROWSER_CONTEXT: 'worker',
      R2_EMULATOR_FAULT: 'set-cookie',
    }),
    ['firefox'],
  );
  assert.equal(result.code, 1, result.output);
  const plain = observation(result, '[firefox] cookie-2-plain › without-credentials');
  assert.equal(plain.status, 'failed');
  assert.match(
    plain.error,
    /^Error: the browser context this worker shares carries cookies an earlier case was answered with \(r2-cors-fault for pub-[0-9a-f]+\.r2\.dev\); a case that sends credentials needs a context of its own \(CORS_BROWSER_CONTEXT=auto gives it one\)$/,
  );
});
