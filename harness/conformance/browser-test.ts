/**
 * The `test` of the browser specs: Playwright's, with the browser context a worker's cases share
 * (harness/browsers/isolation.ts) as a worker fixture, made on first use and closed when the worker ends.
 * Every browser spec uses this one `test`, so that a worker (and its browser) serves all of them.
 */
import { test as base } from '@playwright/test';
import { newContext } from '../browsers/isolation.ts';
import { timed } from '../browsers/timings.ts';
import { BrowserSession } from '../clients/browser.ts';

/** A session on a new context: the shared one, or a case's own. */
export function openSession(browser: import('@playwright/test').Browser, browserName: string): Promise<BrowserSession> {
  return timed(
    'context',
    async () => new BrowserSession(await newContext(browser, browserName), browserName === 'chromium'),
  );
}

export const test = base.extend<object, { shared: BrowserSession }>({
  shared: [
    async ({ browser, browserName }, use) => {
      const session = await openSession(browser, browserName);
      await use(session);
      await session.close();
    },
    { scope: 'worker' },
  ],
});

export { expect } from '@playwright/test';
