/**
 * The browser projects (`chromium`, `firefox`, `webkit`): every simple case × request made by a real browser from
 * a page at the request's exact origin. The check records whether the browser allowed it, its status, which
 * headers JavaScript could read, whether a preflight was sent or answered from the preflight cache (the
 * emulator's request log; on live targets Chromium's DevTools), and, in Chromium, why it was blocked.
 * A case's `expect.browser` is checked as written; where a case states none, the browser must do what the Fetch
 * standard predicts from the raw responses, or be listed in harness/browsers/deviations.yaml.
 */

import { type Browser, type BrowserContext, type TestInfo, test } from '@playwright/test';
import { deviationsOf } from '../browsers/deviations.ts';
import type { BrowserExpectation, CaseRequest, Step } from '../cases/model.ts';
import type { Mismatch } from '../check/expect.ts';
import { redactUrl } from '../check/redact.ts';
import { type BrowserObservation, CasePage } from '../clients/browser.ts';
import { requestUrl, sendRaw } from '../clients/raw.ts';
import { RequestLogClient } from '../clients/request-log.ts';
import { predictBrowser } from '../fetch/predict.ts';
import { decidePreflight } from '../fetch/preflight.ts';
import { type DocPath, formatPath } from '../policy/model.ts';
import { isSimple } from '../run/prepare.ts';
import type { CaseRun } from '../run/state.ts';
import { runCases } from './global-setup.ts';
import { caseRun, failOnMismatches, failWith, location, runStep, waitAsAsked, workerTarget } from './worker.ts';

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

async function observe(
  page: CasePage,
  browserName: string,
  run: CaseRun,
  request: CaseRequest & { from: string },
): Promise<{ observed: Observed; url: string }> {
  const t = workerTarget();
  const url = await requestUrl(t, run.bucket, run.prefix, request);
  const log = RequestLogClient.fromEnv(t.dispatcher);
  const seq = log ? await log.mark() : 0;
  const result = await page.fetch(request.from, {
    url,
    method: request.method,
    headers: request.headers ?? {},
    body: request.body,
    credentials: request.credentials ?? 'same-origin',
    // no-store keeps the HTTP cache out of the checks, unless the case asks otherwise.
    cache: request.cache ?? 'no-store',
    wantBody: request.expect?.browser?.body !== undefined,
  });
  const needed = decidePreflight(request.method, request.headers ?? {}).needed;
  let preflightSent = result.preflightSeenByDevtools;
  let actualReached: boolean | undefined;
  let preflightStatus: number | undefined;
  if (log) {
    const path = new URL(url).pathname;
    const mine = (await log.since(seq)).entries.filter(
      (e) => e.path === path && e.origin === request.from && USER_AGENT[browserName]?.(e.userAgent ?? ''),
    );
    const options = mine.find((e) => e.method === 'OPTIONS');
    preflightSent = options !== undefined;
    preflightStatus = options?.status;
    actualReached = mine.some((e) => e.method === request.method);
  }
  const preflight: PreflightSeen =
    preflightSent === undefined ? 'unknown' : preflightSent ? 'sent' : needed ? 'cached' : 'none';
  return { observed: { ...result, preflight, actualReached, preflightStatus }, url };
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
    o.outcome === 'allowed' ? `allowed (${o.status})` : `blocked${o.reason ? ` (${o.reason})` : ''}: ${o.error ?? ''}`;
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

async function newContext(browser: Browser, browserName: string): Promise<BrowserContext> {
  const proxy = process.env.R2_CORS_PROXY;
  if (!proxy) throw new Error('R2_CORS_PROXY is not set: the browsers need the set-up of `npx playwright test`');
  // No route of any kind: the proxy puts pages at their origin and reaches R2's hosts.
  // Chromium trusts the local CA's certificates by their key (harness/browsers/detect.ts); the others are told
  // to accept them. Either way the browser still enforces CORS.
  return browser.newContext({
    proxy: { server: proxy, bypass: '<-loopback>' },
    ignoreHTTPSErrors: browserName !== 'chromium',
  });
}

/**
 * CORS_BROWSER_CONTEXT=worker shares one context (and page) per worker instead of one per case: faster, and
 * still isolated, since every case has a bucket of its own and preflight cache entries are keyed by URL.
 */
const sharedContext = process.env.CORS_BROWSER_CONTEXT === 'worker';
let workerPage: { context: BrowserContext; page: CasePage } | undefined;

const cases = runCases();

for (const c of cases) {
  test.describe(c.id, () => {
    // One browser context per case (the preflight cache is per context), its requests in order.
    test.describe.configure({ mode: 'default' });
    let context: BrowserContext | undefined;
    let page: CasePage | undefined;
    test.beforeAll(async ({ browser, browserName }) => {
      if (sharedContext) {
        if (!workerPage) {
          const shared = await newContext(browser, browserName);
          workerPage = { context: shared, page: new CasePage(shared, browserName === 'chromium') };
        }
        page = workerPage.page;
        return;
      }
      context = await newContext(browser, browserName);
      page = new CasePage(context, browserName === 'chromium');
    });
    test.afterAll(async () => {
      await context?.close();
    });

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
      test(request.id, async ({ browserName }, info) => {
        test.skip(request.from === undefined || request.from === 'null', 'a browser check needs a page origin (from)');
        test.skip(request.method === 'OPTIONS', 'a hand-made OPTIONS request is a raw check');
        test.skip(request.auth === 'signed', 'signed requests come from servers, not pages');
        const main = caseRun(c);
        const own = isSimple(c) ? main : main.perBrowser?.[browserName];
        test.skip(
          !own,
          'a sequence case needs a bucket per browser, made only where the harness owns the buckets (the emulator); here it is checked raw only',
        );
        const run = own as CaseRun;
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
        const from = request.from as string;
        const expected = request.expect?.browser;

        await waitAsAsked(request);
        // Without a stated outcome, the standard's prediction from the raw responses is the expectation.
        const raw = expected ? undefined : await sendRaw(workerTarget(), run.bucket, run.prefix, request);
        const credentials = request.credentials ?? 'same-origin';
        const prediction = raw
          ? predictBrowser({ origin: from, method: request.method, headers: request.headers ?? {}, credentials }, raw)
          : undefined;

        const { observed, url } = await observe(page as CasePage, browserName, run, { ...request, from });
        await info.attach('browser observation', {
          body: JSON.stringify({ url: redactUrl(url), ...observed, prediction }, null, 2),
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
          failWith(
            `${browserName} sent the ${request.method} although its preflight answered ${observed.preflightStatus}`,
          );
        }

        const at = [...step.path, 'expect', 'browser'];
        if (expected) {
          const mismatches = compare(browserName, expected, observed, at, info);
          failOnMismatches(c, mismatches);
          return;
        }
        const standard = prediction as NonNullable<typeof prediction>;
        const agrees =
          standard.outcome === observed.outcome &&
          (observed.outcome === 'blocked' || standard.status === observed.status);
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
      });
    }
  });
}
