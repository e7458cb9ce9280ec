/**
 * The data of the morning-after report (reports/conformance.json): one check per case › request › client,
 * keyed by stable ids, with the run's header facts. The reporter (reporter.ts) writes it; the page (page.ts),
 * the summary (summary.ts) and `r2-cors diff` (diff.ts) read it.
 */
import { readFileSync } from 'node:fs';
import type { ReportDiff } from './diff.ts';
import type { ObservedLeg } from './observation.ts';

export const FORMAT = 'r2-cors-conformance/1';

/** The clients, in the order the page shows them; a project of another name is shown after these. */
export const CLIENTS = ['raw', 'chromium', 'firefox', 'webkit'];

/** passed; failed; skipped (with reason); deviation (listed in deviations.yaml); assumed (passed, on an `assumed:` mark). */
export type CheckStatus = 'passed' | 'failed' | 'skipped' | 'deviation' | 'assumed';
export const STATUSES: CheckStatus[] = ['passed', 'assumed', 'deviation', 'failed', 'skipped'];

/** One `--> file:line:col  path` pointer of a failure. */
export interface Pointer {
  file: string;
  line: number;
  col: number;
  path: string;
}

export interface Check {
  case: string;
  request: string;
  client: string;
  status: CheckStatus;
  /** Why skipped; the listed deviation's reason; what an assumed check rests on. */
  reasons: string[];
  failure?: { message: string; pointers: Pointer[] };
  /** Notes the check left (Firefox's preflight cache, no blocking reason, …). */
  notes: string[];
  durationMs: number;
  /** This test in Playwright's HTML report, relative to the report folder. */
  htmlReport: string;
  /** Raw checks: what came back (no secret: observation.ts). */
  exchange?: ObservedLeg[];
}

export interface CaseInfo {
  id: string;
  title: string;
  /** The case's folder (cases/<area>/<id>.yaml). */
  area: string;
  file?: string;
  source: string[];
  /** Request ids in the case's order. */
  requests: string[];
}

export interface Figures {
  count: number;
  minMs: number;
  medianMs: number;
  maxMs: number;
}

export interface ConformanceReport {
  format: typeof FORMAT;
  runId: string;
  /** ISO time the run started. */
  date: string;
  target: { kind: string; identity: string };
  browsers: { name: string; version: string }[];
  durationMs: number;
  /** Time spent in each client's tests (summed over workers). */
  clientMs: Record<string, number>;
  /** How long policies took to come into effect (the set-up's applies and the sequences' later ones). */
  propagation?: Figures;
  clients: string[];
  cases: CaseInfo[];
  /** `case › request › client` → the check. */
  checks: Record<string, Check>;
  /** Set when a baseline was given (CORS_BASELINE). */
  changes?: ReportDiff;
}

export function checkKey(caseId: string, request: string, client: string): string {
  return `${caseId} › ${request} › ${client}`;
}

/** Counts per client and status (and `all`). */
export function counts(report: ConformanceReport): Record<string, Record<CheckStatus, number>> {
  const empty = (): Record<CheckStatus, number> => ({ passed: 0, assumed: 0, deviation: 0, failed: 0, skipped: 0 });
  const out: Record<string, Record<CheckStatus, number>> = { all: empty() };
  for (const client of report.clients) out[client] = empty();
  for (const check of Object.values(report.checks)) {
    out[check.client] ??= empty();
    out[check.client][check.status]++;
    out.all[check.status]++;
  }
  return out;
}

/** Reads a conformance.json, with a clear error when it is not one. */
export function readReport(file: string): ConformanceReport {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      `${file}: ${code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? (error as Error).message})`}`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not JSON (${(error as Error).message})`);
  }
  const format = (data as { format?: unknown } | null)?.format;
  if (format !== FORMAT) {
    throw new Error(
      `${file}: not a conformance report (format ${JSON.stringify(format)}, expected "${FORMAT}"); use the reports/conformance.json a run writes`,
    );
  }
  return data as ConformanceReport;
}

/** An account id (32 hex digits) shortened to its first 6 and last 4, wherever it appears. */
export function shortenAccount(text: string): string {
  return text.replace(/\b([0-9a-f]{6})[0-9a-f]{22}([0-9a-f]{4})\b/gi, '$1…$2');
}

export function figures(values: number[]): Figures | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : Math.round((sorted[mid - 1] + sorted[mid]) / 2);
  return { count: values.length, minMs: sorted[0], medianMs: median, maxMs: sorted[sorted.length - 1] };
}

export function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
