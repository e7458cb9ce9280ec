/** reports/summary.md: the run in a few lines, for `$GITHUB_STEP_SUMMARY` and chat. */
import { type ConformanceReport, counts, STATUSES, seconds } from './conformance.ts';
import { diffLines } from './diff.ts';

const MAX_FAILURES = 20;

export function renderSummary(report: ConformanceReport): string {
  const out: string[] = [];
  if (report.changes) out.push(...diffLines(report.changes, 'markdown'), '');
  const n = counts(report);
  out.push(
    `### R2 CORS conformance: ${n.all.failed === 0 ? 'no failure' : `${n.all.failed} failed`}`,
    '',
    `Target ${report.target.identity} · ${report.date} · run ${report.runId} · ${seconds(report.durationMs)}` +
      (report.browsers.length ? ` · ${report.browsers.map((b) => `${b.name} ${b.version}`).join(', ')}` : ''),
  );
  if (report.propagation) {
    const p = report.propagation;
    out.push(
      '',
      `Propagation (${p.count} applies): min ${seconds(p.minMs)}, median ${seconds(p.medianMs)}, max ${seconds(p.maxMs)}`,
    );
  }
  out.push('', `| client | ${STATUSES.join(' | ')} | time |`, `|---|${STATUSES.map(() => '---:|').join('')}---:|`);
  for (const client of [...report.clients, 'all']) {
    const c = n[client];
    if (!c) continue;
    const time = client === 'all' ? report.durationMs : (report.clientMs[client] ?? 0);
    out.push(`| ${client} | ${STATUSES.map((s) => c[s]).join(' | ')} | ${seconds(time)} |`);
  }
  const failed = Object.entries(report.checks).filter(([, c]) => c.status === 'failed');
  if (failed.length > 0) {
    out.push('', 'Failures:');
    for (const [key, check] of failed.slice(0, MAX_FAILURES)) {
      const first = check.failure?.message.split('\n').slice(0, 3).join(' · ') ?? '';
      out.push(`- \`${key}\`: ${first.replace(/\|/g, '\\|')}`);
    }
    if (failed.length > MAX_FAILURES)
      out.push(`- … and ${failed.length - MAX_FAILURES} more (see the conformance page)`);
  }
  return `${out.join('\n')}\n`;
}
