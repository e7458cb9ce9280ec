/**
 * The configuration `npm run nightly` and `npm run nightly:merge` give `playwright merge-reports`: the reports
 * of one `npx playwright test` (playwright.config.ts), made from the blob reports of a nightly's shards (one
 * each). The conformance reporter reads the tests' results, annotations and attachments from the blobs, and
 * the shards' run states from the files kept beside them (R2_CORS_MERGE_STATES, harness/run/nightly.ts).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from '@playwright/test';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const reports = path.resolve(ROOT, process.env.CORS_REPORTS_DIR ?? 'reports');

export default defineConfig({
  // The same root as playwright.config.ts, so that the merged report names the spec files as a run does.
  testDir: path.join(ROOT, 'harness/conformance'),
  reporter: [
    ['html', { outputFolder: path.join(reports, 'html'), open: 'never' }],
    ['json', { outputFile: path.join(reports, 'results.json') }],
    ['junit', { outputFile: path.join(reports, 'junit.xml') }],
    [path.join(ROOT, 'harness/report/reporter.ts'), { outputDir: reports, htmlFolder: 'html' }],
  ],
});
