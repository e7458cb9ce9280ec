/**
 * The conformance page as a reader sees it: opened from file:// in Chromium, it shows the run's counts (as
 * Playwright's own JSON report counts them), "failures only" leaves only failing rows, and the console stays
 * free of errors. The screenshot is kept in reports/selftest/ and named in the test's output.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { chromium } from '@playwright/test';
import { detectBrowsers } from '../../harness/browsers/detect.ts';
import { ROOT } from '../cli/run-cli.ts';
import { runWithReports } from './run-reports.ts';

const found = detectBrowsers({ ...process.env, CORS_BROWSERS: 'chromium' }).found.find((b) => b.name === 'chromium');

test('the page from file:// in Chromium: counts, failures-only filter, no console error', {
  skip: !found && 'Chromium is not installed',
}, async (t) => {
  const run = await runWithReports({ CORS_CASES: 'cases/origin', R2_EMULATOR_FAULT: 'star-for-named-origin' });
  assert.equal(run.code, 1, run.output);
  const stats = JSON.parse(readFileSync(path.join(run.dir, 'results.json'), 'utf8')).stats as {
    expected: number;
    unexpected: number;
    skipped: number;
  };
  assert.ok(stats.unexpected > 0, 'the run has failures to filter');

  const browser = await chromium.launch(found?.launchOptions);
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(pathToFileURL(path.join(run.dir, 'conformance', 'index.html')).href);

    const count = async (status: string) =>
      Number(await page.locator(`tr[data-counts="all"] td[data-status="${status}"]`).textContent());
    assert.equal(await count('failed'), stats.unexpected);
    assert.equal((await count('passed')) + (await count('assumed')) + (await count('deviation')), stats.expected);
    assert.equal(await count('skipped'), stats.skipped);

    const rows = page.locator('#matrix tr.request-row:visible');
    const all = await rows.count();
    assert.equal(all, stats.expected + stats.unexpected + stats.skipped, 'one row per raw check');
    await page.locator('#failures-only').check();
    assert.equal(await rows.count(), stats.unexpected);
    assert.equal(
      await page.locator('#matrix tr.request-row:visible td[data-status="failed"]').count(),
      stats.unexpected,
    );
    assert.equal(await page.locator('#shown').textContent(), String(stats.unexpected));
    await page.locator('#failures-only').uncheck();
    assert.equal(await rows.count(), all);

    const dir = path.join(ROOT, 'reports', 'selftest');
    mkdirSync(dir, { recursive: true });
    const shot = path.join(dir, 'conformance-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    t.diagnostic(`screenshot: ${path.relative(ROOT, shot)}`);
    assert.deepEqual(problems, [], 'no console error');
  } finally {
    await browser.close();
  }
});
