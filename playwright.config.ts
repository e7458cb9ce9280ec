/**
 * `npx playwright test`: the conformance suite. Outputs go to reports/ (see reports/README.md).
 *
 * Today it checks the case corpus itself (every case file loads: schema, R2 policy rules, ids, objects).
 * Applying each case to a target and checking it with raw and browser clients comes with the runner.
 */
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'harness/conformance',
  outputDir: 'reports/test-results',
  forbidOnly: Boolean(process.env.CI),
  reporter: [
    ['list'],
    ['html', { outputFolder: 'reports/html', open: 'never' }],
    ['json', { outputFile: 'reports/results.json' }],
  ],
  projects: [{ name: 'corpus', testMatch: 'corpus.spec.ts' }],
});
