/**
 * The browser projects (`chromium`, `firefox`, `webkit`): every simple case × request made by a real browser from
 * a page at the request's exact origin. The check records whether the browser allowed it, its status, which
 * headers JavaScript could read, whether a preflight was sent or answered from the preflight cache (the
 * emulator's request log; on live targets Chromium's DevTools), and, in Chromium, why it was blocked.
 * A case's `expect.browser` is checked as written; where a case states none, the browser must do what the Fetch
 * standard predicts from the raw responses, or be listed in harness/browsers/deviations.yaml.
 */

import type { TestInfo } from '@playwright/test';
import { deviationsOf } from '../browsers/deviations.ts';
import { batchSizeFromEnv, contextMode, ownContextReason, wantsOwnContext } from '../browsers/isolation.ts';
import { record } from '../browsers/timings.ts';
import { usesCaptures } from '../cases/captures.ts';
import type { BrowserExpectation, CaseRequest, LoadedCase, Step } from '../cases/model.ts';
import { exchangeText } from '../check/exchange.ts';
import { checkHttp, type Mismatch } from '../check/expect.ts';
import { redactUrl } from '../check/redact.ts';
import type { BrowserObservation, BrowserSession } from '../clients/browser.ts';
import { type RawExchange, requestUrl, sendRaw } from '../clients/raw.ts';
import { RequestLogClient } from '../clients/request-log.ts';
import { isMarkup, markupRequest } from '../fetch/initiators.ts';
import { predictBrowser } from '../fetch/predict.ts';
import { decidePreflight } from '../fetch/preflight.ts';
import { type DocPath, formatPath } from '../policy/model.ts';
import { isSimple } from '../run/prepare.ts';
import { type CaseRun, readRunState } from '../run/state.ts';
import { zoneUse, zoneWideFromEnv } from '../run/zone-lock.ts';
import type { LogEntry } from '../wire/request-log.ts';
import { openSession, test } from './browser-test.ts';
import { keepCaptures, withCaptures } from './flow.ts';
import { runCases, waveOf } from './run-cases.ts';
import {
  caseRun,
  failOnMismatches,
  failWith,
  location,
  peekRun,
  runStep,
  slotRun,
  waitAsAsked,
  waveTurn,
  workerTarget,
  zoneTurn,
  zoneTurnEnd,
} from './worker.ts';

/** Which browser sent a logged request: raw clients send no User-Agent at all. */
const USER_AGENT: Record<string, (ua: string) => boolean> = {
  chromium: (ua) => /Chrome\//.test(ua),
  firefox: (ua) => /Firefox\//.test(ua),
  webkit: (ua) => /AppleWebKit\//.test(ua) && !/Chrome\//.test(ua),
};

type PreflightSeen = 'sent' | 'cached' | 'none' | 'unknown';

interface Observed extends BrowserObservation {
  preflight: PreflightSeen;
  /** Whether the actual request reached the server (emulator only). */
  actualReached?: boolean;
  preflightStatus?: number;
}

/** The emulator's request log, one reader per worker (none on a live target). */
let requestLog: RequestLogClient | null | undefined;
function workerRequestLog(): RequestLogClient | undefined {
  if (requestLog === undefined) requestLog = RequestLogClient.fromEnv(workerTarget().dispatcher) ?? null;
  return requestLog ?? undefined;
}

/**
 * CORS_BROWSER_FAULT=same-urls, for the harness's self-tests only: every case's browser checks go to the first
 * case's bucket, so that cases share URLs — the leak the isolation self-tests must see caught.
 */
function bucketOf(run: CaseRun, cases: LoadedCase[]): CaseRun {
  const fault = process.env.CORS_BROWSER_FAULT;
  if (fault === undefined) return run;
  if (fault !== 'same-urls') throw new Error(`CORS_BROWSER_FAULT=${fault}: the only fault is same-urls`);
  return readRunState().cases[cases[0].id] ?? run;
}

/** What a page's fetch() (or its markup) gave, and the milliseconds (Date.now()) between which it was sent and settled. */
interface Sent {
  result: BrowserObservation;
  started: number;
  ended: number;
}

async function send(session: BrowserSession, url: string, request: CaseRequest & { from: string }): Promise<Sent> {
  const started = Date.now();
  // Markup (a font, an image, a video, a module script) makes its own request; otherwise the page calls fetch().
  const markup = markupRequest(request);
  const initiator = request.initiator;
  const result =
    markup && isMarkup(initiator)
      ? await session.load(request.from, { url, initiator, crossorigin: markup.cors ? 'anonymous' : undefined })
      : await session.fetch(request.from, {
          url,
          method: request.method,
          headers: request.headers ?? {},
          body: request.body,
          credentials: request.credentials ?? 'same-origin',
          // no-store keeps the HTTP cache out of the checks, unless the case asks otherwise.
          cache: request.cache ?? 'no-store',
          wantBody:
            request.expect?.browser?.body !== undefined || Object.values(request.capture ?? {}).some((x) => 'xml' in x),
          bodyBytes: request.bodyBytes,
        });
  return { result, started, ended: Date.now() };
}

/**
 * What the browser did, from what its page saw and, on the emulator, the request log read after it: this check's
 * entries are those for its URL, from its origin and its browser (other checks — other workers, the raw
 * project, other browsers — share the log), logged while its fetch() was under way (`within`: a batch reads the
 * log once for many checks, and a case's later request to the same URL starts in a later millisecond).
 */
function observed(
  browserName: string,
  url: string,
  request: CaseRequest & { from: string },
  sent: Sent,
  log: LogEntry[] | undefined,
  within = false,
): Observed {
  const { result } = sent;
  // A markup request sets no header of its own and is never preflighted; a no-cors one carries no Origin.
  const markup = markupRequest(request);
  const needed = markup ? false : decidePreflight(request.method, request.headers ?? {}).needed;
  const sentOrigin = markup?.cors === false ? undefined : request.from;
  let preflightSent = result.preflightSeenByDevtools;
  let actualReached: boolean | undefined;
  let preflightStatus: number | undefined;
  if (log) {
    const { hostname, pathname } = new URL(url);
    const mine = log.filter(
      (e) =>
        e.path === pathname &&
        e.host.replace(/:\d+$/, '') === hostname &&
        e.origin === sentOrigin &&
        USER_AGENT[browserName]?.(e.userAgent ?? '') &&
        (!within || (Date.parse(e.at) >= sent.started && Date.parse(e.at) <= sent.ended)),
    );
    const options = mine.find((e) => e.method === 'OPTIONS');
    preflightSent = options !== undefined;
    preflightStatus = options?.status;
    actualReached = mine.some((e) => e.method === request.method);
  }
  const preflight: PreflightSeen =
    preflightSent === undefined ? 'unknown' : preflightSent ? 'sent' : needed ? 'cached' : 'none';
  return { ...result, preflight, actualReached, preflightStatus };
}

/** One check's observation: its fetch(), then one read of the request log. */
async function observe(
  session: BrowserSession,
  browserName: string,
  url: string,
  request: CaseRequest & { from: string },
): Promise<Observed> {
  const log = workerRequestLog();
  const from = log ? await log.start() : 0;
  const sent = await send(session, url, request);
  return observed(browserName, url, request, sent, log ? await log.after(from) : undefined);
}

function compare(
  browserName: string,
  expected: BrowserExpectation,
  observed: Observed,
  at: DocPath,
  info: TestInfo,
): Mismatch[] {
  const out: Mismatch[] = [];
  const note = (description: string) => info.annotations.push({ type: 'note', description });
  const assumed = expected.assumed;
  const summary = (o: Observed) =>
    o.outcome === 'allowed'
      ? `allowed (${o.status ?? 'loaded'})`
      : `blocked${o.reason ? ` (${o.reason})` : ''}: ${o.error ?? ''}`;
  if (expected.outcome !== observed.outcome) {
    out.push({ path: [...at, 'outcome'], expected: expected.outcome, received: summary(observed), assumed });
    return out;
  }
  if (expected.status !== undefined && observed.outcome === 'allowed' && expected.status !== observed.status) {
    out.push({
      path: [...at, 'status'],
      expected: String(expected.status),
      received: String(observed.status),
      assumed,
    });
  }
  for (const name of expected.readable ?? []) {
    if (!observed.readable.includes(name)) {
      out.push({
        path: [...at, 'readable'],
        expected: `JavaScript can read ${name}`,
        received: `readable: ${observed.readable.join(', ') || '(none)'}`,
        assumed,
      });
    }
  }
  for (const name of expected.unreadable ?? []) {
    if (observed.readable.includes(name)) {
      out.push({
        path: [...at, 'unreadable'],
        expected: `JavaScript cannot read ${name}`,
        received: `readable: ${observed.readable.join(', ')}`,
        assumed,
      });
    }
  }
  if (expected.preflight !== undefined && expected.preflight !== observed.preflight) {
    if (observed.preflight === 'unknown') note(`preflight: not observable on this target in ${browserName}`);
    else if (browserName === 'firefox' && expected.preflight !== 'none' && observed.preflight !== 'none') {
      // Firefox's preflight cache was seen to vary: measured and reported, not asserted.
      note(`firefox preflight cache: expected ${expected.preflight}, observed ${observed.preflight}`);
    } else
      out.push({ path: [...at, 'preflight'], expected: expected.preflight, received: observed.preflight, assumed });
  }
  if (expected.body !== undefined && observed.body !== expected.body) {
    out.push({
      path: [...at, 'body'],
      expected: JSON.stringify(expected.body),
      received: JSON.stringify(observed.body ?? null),
      assumed,
    });
  }
  if (expected.canvas !== undefined && observed.canvas !== expected.canvas) {
    out.push({
      path: [...at, 'canvas'],
      expected: `canvas ${expected.canvas}`,
      received: observed.canvas ? `canvas ${observed.canvas}` : '(nothing drawn)',
      assumed,
    });
  }
  if (expected.reason !== undefined) {
    if (browserName !== 'chromium')
      note(`${browserName} reports no blocking reason (expected ${expected.reason} in Chromium)`);
    else if (observed.reason !== expected.reason) {
      out.push({
        path: [...at, 'reason'],
        expected: expected.reason,
        received: observed.reason ?? '(none reported)',
        assumed,
      });
    }
  }
  return out;
}

const mode = contextMode();
/** Cases per batch (README, "Browsers"); 1: every case one check at a time, as `CORS_BROWSER_CONTEXT=case` does. */
const batchSize = batchSizeFromEnv(mode);
/** Whether a check of this worker has sent credentials (and so may have been answered with cookies). */
let credentialsSent = false;

/** Why a request is not checked in a browser at all, from its data; undefined when it is. */
function notInBrowser(request: CaseRequest): string | undefined {
  if (request.from === undefined) return 'a browser check needs a page origin (from)';
  if (request.method === 'OPTIONS') return 'a hand-made OPTIONS request is a raw check';
  if (request.auth === 'signed') return 'signed requests come from servers, not pages';
  return undefined;
}

const noSurface = (run: CaseRun, request: CaseRequest) =>
  `the target has no ${request.surface} surface for bucket ${run.bucket}`;

function carriedCookies(carried: string[]): never {
  failWith(
    `the browser context this worker shares carries cookies an earlier case was answered with (${carried.join(', ')}); ` +
      'a case that sends credentials needs a context of its own (CORS_BROWSER_CONTEXT=auto gives it one)',
  );
}

/** A check's observation, made one at a time or in a batch. */
interface Made {
  url: string;
  context: 'own' | 'shared';
  /** How many cases the batch that made it held; none when made alone. */
  batch?: number;
  sharedCookies?: string[];
  raw?: RawExchange;
  observed: Observed;
}

/**
 * The verdict on one observation: attached to the test, then compared with the case's `expect.browser`, or with
 * the standard's prediction from the raw exchange (and the deviations list).
 */
async function judge(
  c: LoadedCase,
  step: Step & { kind: 'request' },
  browserName: string,
  info: TestInfo,
  made: Made,
  /** What the check's captures found missing (a flow's values JavaScript could not read). */
  captured: Mismatch[] = [],
) {
  const { request } = step;
  const { url, context, batch, sharedCookies, raw, observed } = made;
  const from = request.from as string;
  const expected = request.expect?.browser;
  if (expected?.assumed) info.annotations.push({ type: 'assumed', description: expected.assumed });
  const credentials = request.credentials ?? 'same-origin';
  const prediction = raw
    ? predictBrowser({ origin: from, method: request.method, headers: request.headers ?? {}, credentials }, raw)
    : undefined;
  await info.attach('browser observation', {
    body: JSON.stringify({ url: redactUrl(url), context, batch, sharedCookies, ...observed, prediction }, null, 2),
    contentType: 'application/json',
  });
  if (observed.reason) info.annotations.push({ type: 'blocked because', description: observed.reason });
  if (observed.outcome === 'blocked' && browserName !== 'chromium') {
    info.annotations.push({ type: 'note', description: `${browserName} gives no reason for a blocked request` });
  }

  // The point of the design: a request whose preflight failed never reaches the server.
  if (
    observed.preflightStatus !== undefined &&
    (observed.preflightStatus < 200 || observed.preflightStatus > 299) &&
    observed.actualReached
  ) {
    failWith(`${browserName} sent the ${request.method} although its preflight answered ${observed.preflightStatus}`);
  }

  // Markup and sandboxed frames shape the request themselves (Origin or none, Origin null): the emulator's log
  // must show the request the case describes, or the check observed some other request.
  const markup = markupRequest(request);
  if ((markup || from === 'null') && observed.actualReached === false) {
    const origin = markup?.cors === false ? 'without Origin' : `with Origin ${from}`;
    failWith(
      `the emulator logged no ${request.method} of ${request.key} from ${browserName} ${origin}: ` +
        `the page did not make the request ${c.file} describes`,
    );
  }

  const where = [...step.path, 'expect', 'browser'];
  if (expected) {
    const mismatches = compare(browserName, expected, observed, where, info);
    failOnMismatches(c, [...mismatches, ...captured]);
    return;
  }
  failOnMismatches(c, captured);
  const standard = prediction as NonNullable<typeof prediction>;
  const agrees =
    standard.outcome === observed.outcome && (observed.outcome === 'blocked' || standard.status === observed.status);
  const title = `${c.id} › ${request.id}`;
  const listed = deviationsOf(browserName).find((d) => d.test === title);
  const predicted = `${standard.outcome}${standard.reason ? ` (${standard.reason}: ${standard.detail})` : standard.status ? ` (${standard.status})` : ''}`;
  const seen = `${observed.outcome}${observed.outcome === 'allowed' ? ` (${observed.status})` : observed.reason ? ` (${observed.reason})` : ''}`;
  if (!agrees && listed) {
    info.annotations.push({ type: 'known deviation', description: listed.reason });
    return;
  }
  if (!agrees) {
    failWith(
      `${browserName} deviates from the Fetch standard: from the responses the target sent, the standard predicts ` +
        `${predicted}; ${browserName} ${seen}.\nIf this is how ${browserName} behaves, list '${title}' under ${browserName} in ` +
        'harness/browsers/deviations.yaml with the reason.',
    );
  }
  if (listed) {
    failWith(
      `'${title}' is listed as a ${browserName} deviation ("${listed.reason}"), but ${browserName} now does what the standard predicts (${predicted}); remove it from harness/browsers/deviations.yaml`,
    );
  }
}

/**
 * Whether a case's checks can be made in a batch (README, "Browsers"): a simple case (no steps to run between
 * its requests, no captures), outside the custom-domain zone's turns, with no request that waits on purpose. A
 * case that sends credentials is batched only where it gets a context of its own (`auto`): under
 * `CORS_BROWSER_CONTEXT=worker` the cookie jar it leaves to the next check is the point.
 */
function batchable(c: LoadedCase): boolean {
  const credentialed = ownContextReason(c) !== undefined;
  return (
    batchSize > 1 &&
    (!credentialed || mode === 'auto') &&
    isSimple(c) &&
    !usesCaptures(c) &&
    zoneUse(c) === undefined &&
    zoneWideFromEnv() !== 'only' &&
    c.steps.every((s) => s.kind !== 'request' || !s.request.delaySeconds)
  );
}

/**
 * Whether a case's expectations read the preflight cache. Such cases of a batch run one after the other, in the
 * order of the corpus, so that a later one would see an earlier one's preflight cache entry if their URLs were
 * shared: the isolation self-test (CORS_BROWSER_FAULT=same-urls) must keep catching that.
 */
const readsPreflightCache = (c: LoadedCase) =>
  c.steps.some((s) => s.kind === 'request' && s.request.expect?.browser?.preflight !== undefined);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A batch: its `beforeAll` makes every check of its cases in the worker's shared context — the cases side by
 * side, each case's requests in order — and reads the request log once; each test then judges its own
 * observation, under the title it has one at a time (`<case-id> › <request-id>`: the group adds none).
 */
function batch(group: LoadedCase[]) {
  test.describe.configure({ mode: 'default' });
  const made = new Map<CaseRequest, Made | { error: unknown }>();
  let sharedCookies: string[] | undefined;

  test.beforeAll(async ({ shared, browser, browserName }, info) => {
    // A batch does the work of its cases' tests: it has their time (CORS_TEST_TIMEOUT each), not one test's.
    if (info.timeout > 0) info.setTimeout(info.timeout * group.length);
    // In waves, every case of a batch is of one wave (the batches are cut so): wait for it first.
    for (const c of group) await waveTurn(c, browserName, info);
    const started = Date.now();
    made.clear();
    try {
      const log = workerRequestLog();
      const from = log ? await log.start() : 0;
      const sent: {
        request: CaseRequest;
        page: CaseRequest & { from: string };
        url: string;
        raw?: RawExchange;
        sent: Sent;
        context: 'own' | 'shared';
      }[] = [];
      const checkCase = async (c: LoadedCase) => {
        const { run } = peekRun(c, browserName);
        // Its tests fail with why (caseRun).
        if (!run || run.error) return;
        const at = bucketOf(run, cases);
        const ownContext = wantsOwnContext(c, mode);
        let session = shared;
        let ended = 0;
        let failed: unknown;
        try {
          if (ownContext) {
            session = await openSession(browser, browserName);
            credentialsSent = true;
          }
        } catch (error) {
          failed = error;
        }
        for (const step of c.steps) {
          if (step.kind !== 'request') continue;
          const request = step.request;
          if (notInBrowser(request) || !run.surfaces.includes(request.surface)) continue;
          if (failed !== undefined) {
            made.set(request, { error: failed });
            continue;
          }
          try {
            // The request log tells a case's requests apart by the millisecond they were sent and settled in.
            while (Date.now() <= ended) await sleep(1);
            const url = await requestUrl(workerTarget(), at.bucket, at.prefix, request);
            const page = { ...request, from: request.from as string };
            const [raw, done] = await Promise.all([
              request.expect?.browser ? undefined : sendRaw(workerTarget(), at.bucket, at.prefix, request),
              send(session, url, page),
            ]);
            ended = done.ended;
            sent.push({ request, page, url, raw, sent: done, context: ownContext ? 'own' : 'shared' });
          } catch (error) {
            failed = error;
            made.set(request, { error });
          }
        }
        if (session !== shared) await session.close();
      };
      const inTurn = group.filter(readsPreflightCache);
      await Promise.all([
        (async () => {
          for (const c of inTurn) await checkCase(c);
        })(),
        ...group.filter((c) => !readsPreflightCache(c)).map(checkCase),
      ]);
      let entries: LogEntry[] | undefined;
      try {
        entries = log ? await log.after(from) : undefined;
        // Checks that send credentials do so in contexts of their own. The shared context's jar is read once,
        // after every check of the batch: whatever an earlier batch or this one left there, its checks see.
        sharedCookies = credentialsSent ? await shared.cookies() : undefined;
      } catch (error) {
        for (const s of sent) made.set(s.request, { error });
        return;
      }
      for (const s of sent) {
        const observation = observed(browserName, s.url, s.page, s.sent, entries, true);
        made.set(s.request, {
          url: s.url,
          context: s.context,
          batch: group.length,
          sharedCookies: s.context === 'shared' ? sharedCookies : undefined,
          raw: s.raw,
          observed: observation,
        });
      }
    } finally {
      record('batch', started);
    }
  });

  for (const c of group) {
    test.describe(c.id, () => {
      for (const step of c.steps) {
        if (step.kind !== 'request') continue;
        const request = step.request;
        test(request.id, async ({ browserName, browser }, info) => {
          await waveTurn(c, browserName);
          await zoneTurn(c, step);
          // For the conformance page's header (harness/report/reporter.ts).
          info.annotations.push({ type: 'browser', description: `${browserName} ${browser.version()}` });
          const started = Date.now();
          try {
            const skip = notInBrowser(request);
            test.skip(skip !== undefined, skip);
            const run = caseRun(c, browserName);
            test.skip(!run.surfaces.includes(request.surface), noSurface(run, request));
            const mine = made.get(request);
            if (!mine) failWith(`the batch made no observation for ${c.id} › ${request.id}`);
            if ('error' in mine) throw mine.error;
            if (mine.context === 'own') {
              info.annotations.push({ type: 'own browser context', description: ownContextReason(c) ?? '' });
            } else if (mine.sharedCookies && mine.sharedCookies.length > 0) carriedCookies(mine.sharedCookies);
            await judge(c, step, browserName, info, mine);
          } finally {
            record('check', started);
          }
        });
      }
    });
  }
}

/** A case checked one request at a time, as the test of each request runs. */
function oneAtATime(c: LoadedCase) {
  test.describe(c.id, () => {
    // A case's requests in order, in one worker (its preflight cache entries are the point of some cases).
    test.describe.configure({ mode: 'default' });
    const ownContext = wantsOwnContext(c, mode);
    let own: BrowserSession | undefined;
    if (ownContext) {
      test.beforeAll(async ({ browser, browserName }) => {
        own = await openSession(browser, browserName);
      });
      test.afterAll(async () => {
        await own?.close();
        own = undefined;
      });
    }

    // A sequence's apply and purge steps run before the request that follows them, on this browser's bucket;
    // refusals of invalid policies are raw checks.
    let pending: Step[] = [];
    for (const step of c.steps) {
      if (step.kind !== 'request') {
        if (!(step.kind === 'apply' && step.rejected)) pending.push(step);
        continue;
      }
      const before = pending;
      pending = [];
      const request = step.request;
      const requestStep = step;
      test(request.id, async ({ browserName, browser, shared }, info) => {
        await waveTurn(c, browserName);
        await zoneTurn(c, step);
        // For the conformance page's header (harness/report/reporter.ts).
        info.annotations.push({ type: 'browser', description: `${browserName} ${browser.version()}` });
        const started = Date.now();
        try {
          await check(own ?? shared, ownContext ? 'own' : 'shared', browserName, info);
        } finally {
          record('check', started);
        }
      });

      async function check(session: BrowserSession, context: 'own' | 'shared', browserName: string, info: TestInfo) {
        // In a flow (captures), a request without a page origin is the app's server's: sent raw on this browser's
        // bucket, so that the page's requests around it run as in the app.
        const server = usesCaptures(c) && (request.from === undefined || request.auth === 'signed');
        if (!server) {
          const skip = notInBrowser(request);
          test.skip(skip !== undefined, skip);
        }
        const mine = slotRun(c, browserName);
        test.skip(
          !mine,
          'a sequence case needs a bucket per browser, made only where the harness owns the buckets (the emulator); here it is checked raw only',
        );
        const run = mine as CaseRun;
        if (run.error) failWith(run.error.message);
        for (const s of before) {
          await test.step(`${s.kind} (${formatPath(s.path)})`, () => runStep(c, run, s), {
            location: location(c, s.path),
          });
        }
        test.skip(
          !run.surfaces.includes(request.surface),
          `the target has no ${request.surface} surface for bucket ${run.bucket}`,
        );
        if (server) {
          await serverStep(run, info);
          return;
        }
        // A shared context must hold nothing another case left. Once this worker has sent credentials, in any
        // context, the shared context's cookie jar is read before each of its checks and must be empty.
        let sharedCookies: string[] | undefined;
        if (context === 'shared' && credentialsSent) {
          sharedCookies = await session.cookies();
          if (sharedCookies.length > 0) carriedCookies(sharedCookies);
        }
        const from = request.from as string;
        const expected = request.expect?.browser;

        const why = context === 'own' && mode === 'auto' ? ownContextReason(c) : undefined;
        if (why) info.annotations.push({ type: 'own browser context', description: why });
        await waitAsAsked(request);
        const credentials = request.credentials ?? 'same-origin';
        if (credentials === 'include') credentialsSent = true;
        const at = bucketOf(run, cases);
        // `${name}`s replaced by what the page (and the app's server) captured earlier on this browser's bucket.
        const sent = withCaptures(c, run, request, step.path);
        const url = await requestUrl(workerTarget(), at.bucket, at.prefix, sent);
        // Without a stated outcome, the standard's prediction from the raw responses is the expectation. The raw
        // exchange and the browser's go side by side: the request log tells them apart (raw sends no User-Agent).
        const [raw, observed] = await Promise.all([
          expected ? undefined : sendRaw(workerTarget(), at.bucket, at.prefix, sent),
          observe(session, browserName, url, { ...sent, from }),
        ]);
        // A capture is what JavaScript could read: a header the policy does not expose is not there.
        const readable = { headers: observed.headers ?? {}, body: observed.body };
        const captured = keepCaptures(c, run, sent, step.path, readable, `JavaScript in ${browserName}`);
        await judge(c, requestStep, browserName, info, { url, context, sharedCookies, raw, observed }, captured);
      }

      /** The app's server's request in a flow: raw, its raw expectations checked, its captures kept. */
      async function serverStep(run: CaseRun, info: TestInfo) {
        info.annotations.push({
          type: 'server',
          description: "no page origin: the app's server's request, sent raw on this browser's bucket",
        });
        const sent = withCaptures(c, run, request, step.path);
        const exchange = await sendRaw(workerTarget(), run.bucket, run.prefix, sent);
        await info.attach('exchange (redacted)', {
          body: exchangeText([
            { title: 'preflight', leg: exchange.preflight },
            { title: `${sent.method} (actual request)`, leg: exchange.actual },
          ]),
          contentType: 'text/plain',
        });
        const expect = request.expect ?? {};
        const mismatches: Mismatch[] = [];
        if (expect.preflight && exchange.preflight) {
          mismatches.push(
            ...checkHttp(expect.preflight, exchange.preflight.response, [...step.path, 'expect', 'preflight']),
          );
        }
        if (expect.response) {
          mismatches.push(
            ...checkHttp(expect.response, exchange.actual.response, [...step.path, 'expect', 'response']),
          );
        }
        const { headers, body } = exchange.actual.response;
        mismatches.push(...keepCaptures(c, run, sent, step.path, { headers, body }, 'the server'));
        failOnMismatches(c, mismatches);
      }
    }
  });
}

const cases = runCases();
test.afterEach(({}, info) => zoneTurnEnd(info));

// Batches of up to CORS_BROWSER_BATCH cases, in the run's order, never across waves; every other case one check
// at a time.
let group: LoadedCase[] = [];
for (const c of cases) {
  // A batch of an earlier wave is declared before a case of a later one: each client meets its waves in order.
  if (group.length > 0 && waveOf(group[0]) !== waveOf(c)) {
    const earlier = group;
    test.describe(() => batch(earlier));
    group = [];
  }
  if (!batchable(c)) {
    oneAtATime(c);
    continue;
  }
  group.push(c);
  if (group.length >= batchSize) {
    const full = group;
    test.describe(() => batch(full));
    group = [];
  }
}
if (group.length > 0) {
  const last = group;
  test.describe(() => batch(last));
}
