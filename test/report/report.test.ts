/** The report modules on data made here: diff, calibration probes, observations, the page and the summary. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadCases } from '../../harness/cases/load.ts';
import { R2_PROFILE } from '../../harness/cors/profile.ts';
import { calibrate, PROBES } from '../../harness/report/calibrate.ts';
import { type Check, type ConformanceReport, FORMAT, shortenAccount } from '../../harness/report/conformance.ts';
import { diffReports } from '../../harness/report/diff.ts';
import { errorOf, type Observation } from '../../harness/report/observation.ts';
import { renderPage } from '../../harness/report/page.ts';
import { renderSummary } from '../../harness/report/summary.ts';
import { r2cors } from '../cli/run-cli.ts';

const corpus = loadCases(['cases']).cases;

function check(caseId: string, request: string, client: string, status: Check['status']): [string, Check] {
  return [
    `${caseId} › ${request} › ${client}`,
    { case: caseId, request, client, status, reasons: [], notes: [], durationMs: 1, htmlReport: 'html/index.html' },
  ];
}

function report(checks: [string, Check][], date = '2026-11-28T03:00:00.000Z'): ConformanceReport {
  const ids = [...new Set(checks.map(([, c]) => c.case))];
  return {
    format: FORMAT,
    runId: date.slice(0, 10),
    date,
    target: { kind: 'emulator', identity: 'emulator' },
    browsers: [],
    durationMs: 1000,
    clientMs: { raw: 1000 },
    clients: ['raw', 'chromium'],
    cases: ids.map((id) => ({ id, title: `title of ${id}`, area: 'a', source: [], requests: ['r'] })),
    checks: Object.fromEntries(checks),
  };
}

describe('diff', () => {
  test('newly failing, newly passing, new and removed cases; an unchanged failure is not news', () => {
    const before = report([
      check('x', 'r', 'raw', 'passed'),
      check('y', 'r', 'raw', 'failed'),
      check('z', 'r', 'raw', 'failed'),
      check('gone', 'r', 'raw', 'passed'),
    ]);
    const after = report(
      [
        check('x', 'r', 'raw', 'failed'),
        check('y', 'r', 'raw', 'assumed'),
        check('z', 'r', 'raw', 'failed'),
        check('new', 'r', 'raw', 'failed'),
      ],
      '2026-11-29T03:00:00.000Z',
    );
    const d = diffReports(before, after);
    assert.deepEqual(
      [d.newlyFailing, d.newlyPassing, d.newCases, d.removedCases],
      [['x › r › raw'], ['y › r › raw'], ['new'], ['gone']],
    );
    assert.equal(d.since.date, '2026-11-28T03:00:00.000Z');
    assert.ok(renderSummary({ ...after, changes: d }).startsWith('### Changed since 2026-11-28T03:00:00.000Z'));
  });
});

describe('calibration probes', () => {
  test('every behaviour field of the profile has a probe, and every observer is a case › request of the corpus', () => {
    const fields = Object.keys(R2_PROFILE).filter((k) => k !== 'name' && k !== 'why');
    assert.deepEqual(PROBES.map((p) => p.field).sort(), fields.sort());
    const requests = new Set(
      corpus.flatMap((c) => c.steps.flatMap((s) => (s.kind === 'request' ? [`${c.id} › ${s.request.id}`] : []))),
    );
    for (const p of PROBES)
      for (const o of p.observers) assert.ok(requests.has(o), `${p.field}: ${o} is in the corpus`);
  });

  const observation = (request: string, caseId: string, legs: Observation['legs']): Observation => ({
    target: 'r2',
    case: caseId,
    request,
    surface: 's3',
    legs,
    assumed: [],
  });

  test('a contradiction names the value seen and the exchange; an unobserved field names its case', () => {
    const file = {
      format: 'r2-cors-observations/1' as const,
      runId: 'run',
      date: '',
      target: { kind: 'r2', identity: 'r2' },
      observations: [
        observation('get', 'expose-headers-list', [
          {
            leg: 'actual',
            requestLine: 'GET /b/k',
            requestHeaders: { origin: 'https://example.com' },
            status: 200,
            headers: {
              'access-control-allow-origin': 'https://example.com',
              'access-control-expose-headers': 'ETag,Content-Encoding,Date',
            },
          },
        ]),
      ],
    };
    const cal = calibrate(R2_PROFILE, file, corpus);
    const by = Object.fromEntries(cal.fields.map((f) => [f.field, f]));
    assert.equal(by.listSeparator.verdict, 'contradicted');
    assert.equal(by.listSeparator.value, ',');
    assert.equal(by.listSeparator.evidence?.exchange, 'expose-headers-list › get');
    // Vary absent on a matched response: the profile says it is sent.
    assert.equal(by.varyOnMatch.verdict, 'contradicted');
    assert.equal(by.varyOnMatch.value, null);
    assert.equal(by.allowCredentials.verdict, 'contradicted');
    assert.equal(by.ruleChoice.verdict, 'not observed');
    assert.deepEqual(by.ruleChoice.observers, ['first-matching-rule-answers › get']);
    assert.deepEqual(calibrate(R2_PROFILE, file, []).fields.find((f) => f.field === 'ruleChoice')?.observers, []);
  });
});

describe('observations', () => {
  test('error codes of S3 XML and HTML error pages, entities decoded', () => {
    assert.deepEqual(errorOf('<Error><Code>AccessForbidden</Code><Message>it&apos;s not</Message></Error>'), {
      code: 'AccessForbidden',
      message: "it's not",
    });
    assert.deepEqual(errorOf('<html><head><title>Bad Request</title></head><body><p>no &amp; no</p></body></html>'), {
      code: 'Bad Request',
      message: 'no & no',
    });
    assert.equal(errorOf('plain'), undefined);
  });

  test('account ids are shortened wherever they appear', () => {
    assert.equal(
      shortenAccount('r2 https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com'),
      'r2 https://012345…cdef.r2.cloudflarestorage.com',
    );
  });
});

describe('page', () => {
  test('a failure links to its test in the HTML report and to its case file; text is escaped', () => {
    const [key, c] = check('x', 'r', 'chromium', 'failed');
    c.failure = {
      message: '--> cases/a/x.yaml:3:4  requests[0].expect.browser.outcome\nexpected: allowed\nreceived: <blocked>',
      pointers: [{ file: 'cases/a/x.yaml', line: 3, col: 4, path: 'requests[0].expect.browser.outcome' }],
    };
    c.htmlReport = 'html/index.html#?testId=abc';
    const page = renderPage(report([[key, c], check('x', 'r', 'raw', 'passed')]));
    assert.ok(page.includes('href="../html/index.html#?testId=abc"'));
    assert.ok(page.includes('href="../../cases/a/x.yaml">cases/a/x.yaml:3:4</a>'));
    assert.ok(page.includes('received: &lt;blocked&gt;'));
    assert.ok(!/<(script|link)[^>]+src=|https?:\/\/[^"]*\.(js|css)/.test(page), 'nothing loaded from elsewhere');
  });
});

describe('the commands', () => {
  test('r2-cors lists diff and calibrate; calibrate refuses a file that is not observations, naming it', () => {
    const help = r2cors(['--help']);
    assert.match(help.stdout, /^ {2}diff {6}what changed between two runs/m);
    assert.match(help.stdout, /^ {2}calibrate say which of the profile's assumptions/m);
    const bad = r2cors(['calibrate', 'package.json']);
    assert.equal(bad.status, 2);
    assert.equal(
      bad.stderr.split('\n')[0],
      'r2-cors calibrate: package.json is not an observations file (reports/observations.json of a run)',
    );
    assert.equal(
      r2cors(['calibrate']).stderr.split('\n')[0],
      'r2-cors calibrate: give one observations file (reports/observations.json)',
    );
  });
});
