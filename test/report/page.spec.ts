/**
 * The conformance page as a reader sees it: opened from file:// in Chromium, it shows the run's counts (as
 * Playwright's own JSON report counts them), "failures only" leaves only failing rows, and the console stays
 * free of errors. The page's screenshot is attached to the test (reports/selftest/page-html).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect, test } from '@playwright/test';
import { detectBrowsers } from '../../harness/browsers/detect.ts';
import { ONE_WORKER } from '../selftest/run-suite.ts';
import { runWithReports } from './run-reports.ts';

const found = detectBrowsers({ ...process.env, CORS_BROWSERS: 'chromium' }).found.some((b) => b.name === 'chromium');

test.skip(!found, 'Chromium is not installed');

test('the page from file:// in Chromium: counts, failures-only filter, no console error', async ({ page }, info) => {
  // A run with failures to filter: an emulator that answers named origins with `*`, on the self-test fixtures (a
  // case it breaks, one it does not). Few failures on purpose: Playwright starts a new worker after each.
  const run = await runWithReports({
    ...ONE_WORKER,
    CORS_CASES: 'test/fixtures/selftest/cases',
    R2_EMULATOR_FAULT: 'star-for-named-origin',
  });
  expect(run.code, run.output).toBe(1);
  const stats = JSON.parse(readFileSync(path.join(run.dir, 'results.json'), 'utf8')).stats as {
    expected: number;
    unexpected: number;
    skipped: number;
  };
  expect(stats.unexpected, 'the run has failures to filter').toBeGreaterThan(0);
  expect(stats.expected, 'and rows the filter hides').toBeGreaterThan(0);

  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(pathToFileURL(path.join(run.dir, 'conformance', 'index.html')).href);

  const count = async (status: string) =>
    Number(await page.locator(`tr[data-counts="all"] td[data-status="${status}"]`).textContent());
  expect(await count('failed')).toBe(stats.unexpected);
  expect((await count('passed')) + (await count('assumed')) + (await count('deviation'))).toBe(stats.expected);
  expect(await count('skipped')).toBe(stats.skipped);

  const rows = page.locator('#matrix tr.request-row:visible');
  const all = await rows.count();
  expect(all, 'one row per raw check').toBe(stats.expected + stats.unexpected + stats.skipped);
  await page.locator('#failures-only').check();
  await expect(rows).toHaveCount(stats.unexpected);
  await expect(page.locator('#matrix tr.request-row:visible td[data-status="failed"]')).toHaveCount(stats.unexpected);
  await expect(page.locator('#shown')).toHaveText(String(stats.unexpected));
  await info.attach('conformance page, failures only', {
    body: await page.screenshot({ fullPage: true }),
    contentType: 'image/png',
  });
  await page.locator('#failures-only').uncheck();
  await expect(rows).toHaveCount(all);
  await info.attach('conformance page', { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });
  expect(problems, 'no console error').toEqual([]);
});
