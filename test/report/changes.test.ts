/**
 * What changed, end to end: two runs of the same cases, the second on an emulator that answers `*` to named
 * origins. `r2-cors diff` and the second run's own page and summary (CORS_BASELINE) name exactly the checks
 * that changed; the change alone would not fail a run.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT, r2cors } from '../cli/run-cli.ts';
import { ONE_WORKER } from '../selftest/run-suite.ts';
import { tempDir } from '../temp-dir.ts';
import { runWithReports } from './run-reports.ts';

/** Four origin cases, copied so that the expected changes stay exact as cases/origin grows. */
function originCases(): string {
  const dir = tempDir('r2-cors-changes-');
  for (const id of ['port-must-match', 'scheme-must-match', 'subdomain-wildcard', 'wildcard-any-origin'])
    copyFileSync(path.join(ROOT, 'cases', 'origin', `${id}.yaml`), path.join(dir, `${id}.yaml`));
  return dir;
}

test('a second run with one emulator fault: the diff names exactly the changed checks', async () => {
  const CASES = originCases();
  const first = await runWithReports({ ...ONE_WORKER, CORS_CASES: CASES });
  assert.equal(first.code, 0, first.output);
  const baseline = path.join(first.dir, 'conformance.json');
  const second = await runWithReports({
    ...ONE_WORKER,
    CORS_CASES: CASES,
    R2_EMULATOR_FAULT: 'star-for-named-origin',
    CORS_BASELINE: baseline,
  });
  assert.equal(second.code, 1, 'the run fails for its failures');

  const cli = r2cors(['diff', baseline, path.join(second.dir, 'conformance.json'), '--json']);
  assert.equal(cli.status, 0, 'a change is news, not an error');
  const changes = JSON.parse(cli.stdout);
  assert.deepEqual(changes.newlyFailing, [
    'scheme-must-match › https-origin › raw',
    'subdomain-wildcard › subdomain › raw',
  ]);
  assert.deepEqual(changes.newlyPassing, []);
  assert.deepEqual(changes.newCases, []);
  assert.deepEqual(changes.removedCases, []);
  assert.deepEqual(
    changes.headerChanges.map(
      (c: { check: string; header: string; before?: string; after?: string }) =>
        `${c.check} ${c.header}: ${c.before} → ${c.after}`,
    ),
    [
      'scheme-must-match › https-origin › raw access-control-allow-origin: https://example.com → *',
      'scheme-must-match › https-origin › raw access-control-allow-credentials: true → undefined',
      'subdomain-wildcard › subdomain › raw access-control-allow-origin: https://app.example.com → *',
      'subdomain-wildcard › subdomain › raw access-control-allow-credentials: true → undefined',
    ],
  );

  // The same, at the top of the second run's summary and page.
  const date = first.report().date;
  const summary = readFileSync(path.join(second.dir, 'summary.md'), 'utf8');
  assert.ok(summary.startsWith(`### Changed since ${date}`), summary);
  assert.match(
    summary,
    /Newly failing \(2\):\n- `scheme-must-match › https-origin › raw`\n- `subdomain-wildcard › subdomain › raw`/,
  );
  const page = readFileSync(path.join(second.dir, 'conformance', 'index.html'), 'utf8');
  assert.ok(page.includes(`<section class="changes" id="changes">Changed since ${date}`));
});

test('r2-cors diff refuses a file that is not a conformance report, naming it', () => {
  const cli = r2cors(['diff', 'package.json', 'package.json']);
  assert.equal(cli.status, 2);
  assert.equal(
    cli.stderr.trim().split('\n')[0],
    'r2-cors diff: package.json: not a conformance report (format undefined, expected "r2-cors-conformance/1"); use the reports/conformance.json a run writes',
  );
});
