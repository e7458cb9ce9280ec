/**
 * `npm run test:page`: the conformance page as a reader sees it, in a real browser (test/report/page.spec.ts).
 * A Playwright run of its own, so that the page's screenshot is a test attachment in its HTML report
 * (reports/selftest/page-html). Chromium as the suite finds it (harness/browsers/detect.ts).
 */
import { defineConfig } from '@playwright/test';
import { detectBrowsers } from '../../harness/browsers/detect.ts';

const chromium = detectBrowsers({ ...process.env, CORS_BROWSERS: 'chromium' }).found.find((b) => b.name === 'chromium');

export default defineConfig({
  testDir: '.',
  testMatch: 'page.spec.ts',
  outputDir: '../../reports/selftest/page-results',
  // The test runs the suite on two fixture cases first (a few seconds on a quiet machine).
  timeout: 300_000,
  forbidOnly: Boolean(process.env.CI),
  reporter: [['list'], ['html', { outputFolder: '../../reports/selftest/page-html', open: 'never' }]],
  projects: [
    {
      name: 'chromium',
      use: { browserName: 'chromium', headless: true, launchOptions: chromium?.launchOptions },
    },
  ],
});
