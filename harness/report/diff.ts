/**
 * What changed between two runs (two conformance.json): checks that started or stopped failing, cases that
 * came or went, and raw header values that changed. A change is news, not a failure: nothing here fails a run.
 */
import type { CheckStatus, ConformanceReport } from './conformance.ts';
import type { ObservedLeg } from './observation.ts';

export interface HeaderChange {
  /** The raw check: `case › request › raw`. */
  check: string;
  leg: ObservedLeg['leg'];
  /** A header name, or `status`. */
  header: string;
  before?: string;
  after?: string;
}

export interface ReportDiff {
  since: { date: string; runId: string; target: string };
  newlyFailing: string[];
  newlyPassing: string[];
  newCases: string[];
  removedCases: string[];
  headerChanges: HeaderChange[];
}

const good = (s: CheckStatus) => s === 'passed' || s === 'assumed' || s === 'deviation';

function legValues(leg: ObservedLeg): Map<string, string> {
  const out = new Map<string, string>([['status', String(leg.status)]]);
  for (const [name, value] of Object.entries(leg.headers)) out.set(name, value);
  return out;
}

export function diffReports(before: ConformanceReport, after: ConformanceReport): ReportDiff {
  const newlyFailing: string[] = [];
  const newlyPassing: string[] = [];
  const headerChanges: HeaderChange[] = [];
  for (const [key, check] of Object.entries(after.checks)) {
    const old = before.checks[key];
    if (!old) continue;
    if (check.status === 'failed' && old.status !== 'failed') newlyFailing.push(key);
    if (good(check.status) && old.status === 'failed') newlyPassing.push(key);
    for (const leg of check.exchange ?? []) {
      const was = old.exchange?.find((l) => l.leg === leg.leg);
      if (!was) continue;
      const a = legValues(was);
      const b = legValues(leg);
      for (const header of new Set([...a.keys(), ...b.keys()])) {
        if (a.get(header) !== b.get(header))
          headerChanges.push({ check: key, leg: leg.leg, header, before: a.get(header), after: b.get(header) });
      }
    }
  }
  const oldCases = new Set(before.cases.map((c) => c.id));
  const newCases = new Set(after.cases.map((c) => c.id));
  return {
    since: { date: before.date, runId: before.runId, target: before.target.identity },
    newlyFailing: newlyFailing.sort(),
    newlyPassing: newlyPassing.sort(),
    newCases: [...newCases].filter((id) => !oldCases.has(id)).sort(),
    removedCases: [...oldCases].filter((id) => !newCases.has(id)).sort(),
    headerChanges,
  };
}

export function nothingChanged(d: ReportDiff): boolean {
  return (
    d.newlyFailing.length +
      d.newlyPassing.length +
      d.newCases.length +
      d.removedCases.length +
      d.headerChanges.length ===
    0
  );
}

const show = (v: string | undefined) => (v === undefined ? '(absent)' : v);

/** The diff as lines of text (the CLI) or Markdown (summary.md): `style` picks list markers and code quotes. */
export function diffLines(d: ReportDiff, style: 'text' | 'markdown'): string[] {
  const code = (s: string) => (style === 'markdown' ? `\`${s}\`` : s);
  const out: string[] = [
    `${style === 'markdown' ? '### ' : ''}Changed since ${d.since.date} (run ${d.since.runId}, ${d.since.target})`,
  ];
  if (nothingChanged(d)) {
    out.push('', 'Nothing changed.');
    return out;
  }
  const list = (title: string, items: string[]) => {
    if (items.length === 0) return;
    out.push('', `${title} (${items.length}):`, ...items.map((i) => `- ${code(i)}`));
  };
  list('Newly failing', d.newlyFailing);
  list('Newly passing', d.newlyPassing);
  list('New cases', d.newCases);
  list('Removed cases', d.removedCases);
  if (d.headerChanges.length > 0) {
    out.push('', `Raw header values that changed (${d.headerChanges.length}):`);
    for (const c of d.headerChanges)
      out.push(`- ${code(c.check)} ${c.leg} ${c.header}: ${code(show(c.before))} → ${code(show(c.after))}`);
  }
  return out;
}
