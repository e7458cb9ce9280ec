/**
 * reports/conformance/index.html: one self-contained page (inline style and script, no server, no CDN; it
 * works from file://). Rows are cases grouped by their folder, one row per request; columns are the clients.
 * The matrix is plain HTML, so it reads without the script too; the script only filters.
 */
import { type Check, type ConformanceReport, checkKey, counts, STATUSES, seconds } from './conformance.ts';
import { diffLines, nothingChanged } from './diff.ts';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

const anchor = (key: string) => `f-${key.replace(/[^A-Za-z0-9_-]+/g, '-')}`;

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1b1f24}
h1{font-size:1.4rem;margin:0 0 .5rem}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:.5rem 0 1rem}
dl.facts dt{font-weight:600}
table{border-collapse:collapse}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
table.counts td{text-align:right}
.changes{border:2px solid #bf8700;background:#fff8c5;padding:.5rem 1rem;margin-bottom:1rem;white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:12px}
.filters{margin:1rem 0;display:flex;gap:1.5rem;align-items:center}
tr.area-row th{background:#24292f;color:#fff;font-size:1rem}
tr.case-row th{background:#f6f8fa;font-weight:normal}
tr.case-row .id{font-family:ui-monospace,monospace;font-weight:600}
td.request{font-family:ui-monospace,monospace}
td.cell{min-width:6rem}
td.passed{background:#dafbe1}td.assumed{background:#ddf4ff}td.deviation{background:#fbefff}
td.failed{background:#ffebe9;font-weight:600}td.skipped{background:#f6f8fa;color:#57606a}td.none{color:#8c959f}
td.cell small{display:block;font-weight:normal;color:#57606a;max-width:18rem}
.failure{border:1px solid #cf222e;border-radius:6px;padding:.5rem 1rem;margin:.75rem 0}
.failure h3{margin:.25rem 0;font-family:ui-monospace,monospace;font-size:13px}
pre{white-space:pre-wrap;background:#f6f8fa;padding:.5rem;margin:.25rem 0}
[hidden]{display:none!important}
`;

const SCRIPT = `
(() => {
  const failuresOnly = document.getElementById('failures-only');
  const client = document.getElementById('client');
  const area = document.getElementById('area');
  function apply() {
    const c = client.value, a = area.value;
    for (const el of document.querySelectorAll('#matrix [data-client]')) el.hidden = c !== '' && el.dataset.client !== c;
    let shown = 0;
    for (const group of document.querySelectorAll('#matrix tbody[data-area]')) {
      group.hidden = a !== '' && group.dataset.area !== a;
      let caseRow = null, caseShown = false;
      const close = () => { if (caseRow) caseRow.hidden = !caseShown; };
      for (const row of group.rows) {
        if (row.classList.contains('case-row')) { close(); caseRow = row; caseShown = false; continue; }
        if (!row.classList.contains('request-row')) continue;
        const failing = c === '' ? row.querySelector('td[data-status=failed]') : row.querySelector('td[data-status=failed][data-client="' + c + '"]');
        row.hidden = failuresOnly.checked && !failing;
        if (!row.hidden) { caseShown = true; if (!group.hidden) shown++; }
      }
      close();
    }
    for (const f of document.querySelectorAll('.failure')) f.hidden = (c !== '' && f.dataset.client !== c) || (a !== '' && f.dataset.area !== a);
    document.getElementById('shown').textContent = String(shown);
  }
  for (const el of [failuresOnly, client, area]) el.addEventListener('change', apply);
  apply();
})();
`;

function cell(check: Check | undefined, client: string): string {
  if (!check) return `<td class="cell none" data-client="${escapeHtml(client)}">—</td>`;
  const attrs = `class="cell ${check.status}" data-client="${escapeHtml(client)}" data-status="${check.status}"`;
  const why = check.reasons.join('; ');
  const small = why ? `<small title="${escapeHtml(why)}">${escapeHtml(why)}</small>` : '';
  if (check.status === 'failed') {
    const key = checkKey(check.case, check.request, check.client);
    return `<td ${attrs}><a href="#${anchor(key)}">failed</a>${small}</td>`;
  }
  return `<td ${attrs}>${check.status}${small}</td>`;
}

function sourceLinks(urls: string[]): string {
  return urls.map((u, i) => `<a href="${escapeHtml(u)}">source ${i + 1}</a>`).join(' ');
}

/** A path of the repository as seen from the page (reports/conformance/index.html). */
function fromPage(file: string, pageToRoot: string): string {
  return `${pageToRoot}${file.split('/').map(encodeURIComponent).join('/')}`;
}

export interface PageOptions {
  /** The repository root as seen from the page; default `../../` (reports/conformance/). */
  pageToRoot?: string;
  /** The reports folder as seen from the page; default `../`. */
  pageToReports?: string;
}

export function renderPage(report: ConformanceReport, options: PageOptions = {}): string {
  const toRoot = options.pageToRoot ?? '../../';
  const toReports = options.pageToReports ?? '../';
  const n = counts(report);
  const clients = report.clients;
  // Case folders in order; tests that are not case checks (the flows) come last.
  const areas = [...new Set(report.cases.map((c) => c.area))].sort((a, b) =>
    a.startsWith('(') === b.startsWith('(') ? a.localeCompare(b) : a.startsWith('(') ? 1 : -1,
  );
  const title = `R2 CORS conformance: ${report.target.kind}, ${report.date.slice(0, 16).replace('T', ' ')} UTC`;

  const facts: [string, string][] = [
    ['target', escapeHtml(report.target.identity)],
    ['date', escapeHtml(report.date)],
    ['run', `<code>${escapeHtml(report.runId)}</code>`],
    [
      'browsers',
      report.browsers.length
        ? report.browsers.map((b) => `${escapeHtml(b.name)} ${escapeHtml(b.version)}`).join(', ')
        : 'none (raw checks only)',
    ],
    [
      'time',
      `${seconds(report.durationMs)} in all; ${clients
        .map((c) => `${escapeHtml(c)} ${seconds(report.clientMs[c] ?? 0)}`)
        .join(', ')} (test time summed over workers)`,
    ],
    [
      'propagation',
      report.propagation
        ? `min ${seconds(report.propagation.minMs)} · median ${seconds(report.propagation.medianMs)} · max ${seconds(report.propagation.maxMs)} (${report.propagation.count} policy applies)`
        : 'none observed',
    ],
  ];

  const countRows = [...clients, 'all']
    .filter((c) => n[c])
    .map(
      (c) =>
        `<tr data-counts="${escapeHtml(c)}"><th>${escapeHtml(c)}</th>${STATUSES.map((s) => `<td data-status="${s}">${n[c][s]}</td>`).join('')}</tr>`,
    )
    .join('\n');

  const groups = areas.map((area) => {
    const rows: string[] = [`<tr class="area-row"><th colspan="${clients.length + 1}">${escapeHtml(area)}</th></tr>`];
    for (const c of report.cases.filter((x) => x.area === area)) {
      const file = c.file ? ` · <a href="${escapeHtml(fromPage(c.file, toRoot))}">${escapeHtml(c.file)}</a>` : '';
      rows.push(
        `<tr class="case-row" data-case="${escapeHtml(c.id)}"><th colspan="${clients.length + 1}"><span class="id">${escapeHtml(c.id)}</span> ${c.title === c.id ? '' : escapeHtml(c.title)}${file} ${sourceLinks(c.source)}</th></tr>`,
      );
      for (const request of c.requests) {
        const checks = clients.map((client) => report.checks[checkKey(c.id, request, client)]);
        if (checks.every((x) => x === undefined)) continue;
        rows.push(
          `<tr class="request-row"><td class="request">${escapeHtml(request)}</td>${checks.map((x, i) => cell(x, clients[i])).join('')}</tr>`,
        );
      }
    }
    return `<tbody data-area="${escapeHtml(area)}">\n${rows.join('\n')}\n</tbody>`;
  });

  const areaOf = new Map(report.cases.map((c) => [c.id, c.area]));
  const failures = Object.entries(report.checks)
    .filter(([, c]) => c.status === 'failed')
    .map(([key, c]) => {
      const pointers = (c.failure?.pointers ?? [])
        .map(
          (p) =>
            `<li><a href="${escapeHtml(fromPage(p.file, toRoot))}">${escapeHtml(`${p.file}:${p.line}:${p.col}`)}</a> ${escapeHtml(p.path)}</li>`,
        )
        .join('');
      return `<article class="failure" id="${anchor(key)}" data-client="${escapeHtml(c.client)}" data-area="${escapeHtml(areaOf.get(c.case) ?? '')}">
<h3>${escapeHtml(key)}</h3>
${pointers ? `<ul>${pointers}</ul>` : ''}
<pre>${escapeHtml(c.failure?.message ?? '')}</pre>
<a href="${escapeHtml(toReports + c.htmlReport)}">this test in Playwright's HTML report</a>
</article>`;
    });

  const changes =
    report.changes && !nothingChanged(report.changes)
      ? `<section class="changes" id="changes">${escapeHtml(diffLines(report.changes, 'text').join('\n'))}</section>`
      : report.changes
        ? `<section class="changes" id="changes">${escapeHtml(diffLines(report.changes, 'text').join(' '))}</section>`
        : '';

  const option = (v: string) => `<option value="${escapeHtml(v)}">${escapeHtml(v)}</option>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${changes}
<h1>${escapeHtml(title)}</h1>
<dl class="facts">
${facts.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('\n')}
</dl>
<table class="counts" id="counts">
<thead><tr><th>client</th>${STATUSES.map((s) => `<th>${s}</th>`).join('')}</tr></thead>
<tbody>
${countRows}
</tbody>
</table>
<form class="filters" id="filters">
<label><input type="checkbox" id="failures-only"> failures only</label>
<label>client <select id="client"><option value="">all</option>${clients.map(option).join('')}</select></label>
<label>area <select id="area"><option value="">all</option>${areas.map(option).join('')}</select></label>
<span><span id="shown">${Object.keys(report.checks).length}</span> request rows shown</span>
</form>
<table class="matrix" id="matrix">
<thead><tr><th>case › request</th>${clients.map((c) => `<th data-client="${escapeHtml(c)}">${escapeHtml(c)}</th>`).join('')}</tr></thead>
${groups.join('\n')}
</table>
<section id="failures">
<h2>Failures (${failures.length})</h2>
${failures.join('\n') || '<p>None.</p>'}
</section>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
