/**
 * Which browser context a case's checks run in. By default one context per worker is shared by every case: each
 * case has a bucket of its own, so its URLs are its own; the preflight cache is keyed by origin and URL
 * (https://fetch.spec.whatwg.org/#cors-preflight-cache), and `no-store` keeps the HTTP cache out (a case that
 * asks for another cache mode still only ever reaches its own URLs). What a shared context would carry from one
 * case to the next is its cookie jar: a case whose requests send credentials (`credentials: include`) sends the
 * jar's cookies and stores the cookies it is answered with, so such a case gets a context of its own. So does a
 * case that loads a `<video>`: in the shared context Chromium once in a while let a canvas read a video loaded
 * without `crossorigin` (CI, 2026-12-07; cause not proven).
 *
 * CORS_BROWSER_CONTEXT:
 *   auto    (default) one context per worker; a context of its own for a case that sends credentials or loads
 *           a <video>
 *   case    a context per case, every case (slower: a context, a page and a navigation each)
 *   worker  one context per worker for every case, credentialed ones too: shows what `auto` guards against
 */
import type { Browser, BrowserContext } from '@playwright/test';
import type { LoadedCase } from '../cases/model.ts';

export type ContextMode = 'auto' | 'case' | 'worker';
const MODES: readonly ContextMode[] = ['auto', 'case', 'worker'];

export function contextMode(env: NodeJS.ProcessEnv = process.env): ContextMode {
  const value = env.CORS_BROWSER_CONTEXT ?? 'auto';
  if (!(MODES as readonly string[]).includes(value))
    throw new Error(`CORS_BROWSER_CONTEXT=${value}: expected one of ${MODES.join(', ')}`);
  return value as ContextMode;
}

/** Cases a batch holds by default (README, "Browsers"). */
export const DEFAULT_BATCH = 12;

/**
 * CORS_BROWSER_BATCH: how many cases' checks a worker makes side by side in its shared context (a positive
 * whole number; 1: one check at a time). A context per case (`CORS_BROWSER_CONTEXT=case`) shares nothing, so
 * it checks one at a time, as before batches.
 */
export function batchSizeFromEnv(mode: ContextMode, env: NodeJS.ProcessEnv = process.env): number {
  const value = env.CORS_BROWSER_BATCH;
  if (value === undefined || value === '') return mode === 'case' ? 1 : DEFAULT_BATCH;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`CORS_BROWSER_BATCH=${value}: expected a whole number of cases, 1 or more`);
  if (mode === 'case' && n > 1)
    throw new Error(
      `CORS_BROWSER_BATCH=${value}: with CORS_BROWSER_CONTEXT=case every case has a context of its own, so checks are made one at a time`,
    );
  return n;
}

/** Why a case cannot share the worker's context, from its data; undefined when it can. */
export function ownContextReason(c: LoadedCase): string | undefined {
  const credentialed = c.steps.flatMap((s) =>
    s.kind === 'request' && s.request.credentials === 'include' ? [s.request.id] : [],
  );
  if (credentialed.length > 0)
    return `${credentialed.join(', ')} send${credentialed.length === 1 ? 's' : ''} credentials: the cookies it sends and is answered with must not reach other cases`;
  // Seen in CI (2026-12-07): in the shared context, beside other cases' <video> elements, Chromium now and then
  // let a canvas read the frames of a video loaded without crossorigin (alone, 12 of 12 runs were tainted).
  // A context of its own did not cure it (CI failed so once more). The likely cause, guarded against since in
  // harness/clients/markup.page.js: drawImage before Chromium had a frame to paint draws nothing, taints nothing.
  const videos = c.steps.flatMap((s) =>
    s.kind === 'request' && s.request.initiator === 'video' ? [s.request.id] : [],
  );
  if (videos.length > 0)
    return `${videos.join(', ')} load${videos.length === 1 ? 's' : ''} a <video>: whether its canvas is tainted must not depend on other cases' media elements`;
  return undefined;
}

/** Whether a case runs in a context of its own, under a mode. */
export function wantsOwnContext(c: LoadedCase, mode: ContextMode): boolean {
  return mode === 'case' || (mode === 'auto' && ownContextReason(c) !== undefined);
}

/** A context whose pages reach their origins and R2 through the run's proxy, and nothing else. */
export async function newContext(browser: Browser, browserName: string): Promise<BrowserContext> {
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
