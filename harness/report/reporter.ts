/**
 * The morning-after report, as a Playwright reporter (registered in playwright.config.ts next to `html` and
 * `json`). It reads only what Playwright's reporter API gives — each test's project, title, status, errors,
 * annotations and attachments — plus the case files (titles, sources, folders) and the run state the set-up
 * wrote (target, run id, propagation times). It computes no expectation: a check's status is the test's.
 *
 * Writes, under the reports folder (CORS_REPORTS_DIR, default reports/):
 *   conformance/index.html  the matrix page (page.ts)        conformance.json  the same data (conformance.ts)
 *   summary.md              the short form (summary.ts)      observations.json every raw exchange (observation.ts)
 * With CORS_BASELINE=<an earlier conformance.json>, the page and summary open with what changed (diff.ts).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type {
  FullConfig,
  FullResult,
  Reporter,
  Suite,
  TestCase,
  TestResult,
  TestStep,
} from '@playwright/test/reporter';
import { allCases } from '../conformance/run-cases.ts';
import { type RunState, readRunStates } from '../run/state.ts';
import {
  type CaseInfo,
  type Check,
  type CheckStatus,
  CLIENTS,
  type ConformanceReport,
  checkKey,
  FORMAT,
  figures,
  type Pointer,
  readReport,
  shortenAccount,
} from './conformance.ts';
import { diffReports } from './diff.ts';
import { ATTACHMENT, type Observation } from './observation.ts';
import { renderPage } from './page.ts';
import { renderSummary } from './summary.ts';

export interface ReporterOptions {
  /** The reports folder; default CORS_REPORTS_DIR or reports. */
  outputDir?: string;
  /** Playwright's HTML report folder, relative to outputDir (default html). */
  htmlFolder?: string;
}

// Playwright colours error messages; the report shows plain text.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

type Annotation = { type: string; description?: string };

export default class ConformanceReporter implements Reporter {
  private readonly outputDir: string;
  private readonly htmlFolder: string;
  private start = new Date();
  private cases = new Map<string, CaseInfo>();
  private checks = new Map<string, Check>();
  private observations = new Map<string, Observation[]>();
  private browsers = new Map<string, string>();
  private clientMs: Record<string, number> = {};
  private sequencePropagation: number[] = [];
  private clients: string[] = [];

  constructor(options: ReporterOptions = {}) {
    this.outputDir = options.outputDir ?? process.env.CORS_REPORTS_DIR ?? 'reports';
    this.htmlFolder = options.htmlFolder ?? 'html';
  }

  printsToStdio() {
    return false;
  }

  onBegin(config: FullConfig, _suite: Suite) {
    this.start = new Date();
    this.clients = orderClients(config.projects.map((p) => p.name));
    // Titles, sources and folders of the cases; a broken corpus is the set-up's to report, so problems are ignored.
    for (const c of allCases()) {
      this.cases.set(c.id, {
        id: c.id,
        title: c.title,
        area: path.basename(path.dirname(c.file)),
        file: c.file,
        source: c.source,
        requests: c.steps.flatMap((s) =>
          s.kind === 'request'
            ? [s.request.id]
            : s.kind === 'apply' && s.rejected
              ? [`${pathText(s.path)} refused`]
              : [],
        ),
      });
    }
  }

  onTestEnd(test: TestCase, result: TestResult) {
    const client = test.parent.project()?.name ?? 'raw';
    this.clientMs[client] = (this.clientMs[client] ?? 0) + result.duration;
    const annotations: Annotation[] = [...test.annotations, ...result.annotations];
    for (const a of annotations) {
      if (a.type === 'browser' && a.description) {
        const [name, ...version] = a.description.split(' ');
        this.browsers.set(name, version.join(' '));
      }
      // The set-up's applies are in the run state; these are a sequence's later ones.
      const later = a.type === 'propagation' && !a.description?.startsWith('policy in effect');
      const ms = later ? /after (\d+) ms/.exec(a.description ?? '')?.[1] : undefined;
      if (ms) this.sequencePropagation.push(Number(ms));
    }
    const observed = result.attachments
      .filter((a) => a.name === ATTACHMENT && a.body)
      .map((a) => JSON.parse(String(a.body)) as Observation);

    const htmlReport = `${this.htmlFolder}/index.html#?testId=${encodeURIComponent(test.id)}`;
    for (const { caseId, request, status, reasons, failure } of this.locate(test, result, annotations)) {
      const key = checkKey(caseId, request, client);
      const mine = observed.filter((o) => o.case === caseId && o.request === request);
      if (mine.length > 0) this.observations.set(key, mine);
      this.checks.set(key, {
        case: caseId,
        request,
        client,
        status,
        reasons,
        ...(failure ? { failure } : {}),
        notes: annotations.filter((a) => a.type === 'note' || a.type === 'blocked because').map(describe),
        durationMs: result.duration,
        htmlReport,
        ...(mine[0]?.legs.length ? { exchange: mine[0].legs } : {}),
      });
    }
  }

  /**
   * Which case and request a test checks. The specs title tests `<case-id> › <request-id>` (a describe per
   * case); annotations `case`/`request` win when a spec adds them; a test titled by its case id alone (one test
   * per case) is split by its steps titled by request id. Anything else (the flows) is a row of its own.
   */
  private locate(test: TestCase, result: TestResult, annotations: Annotation[]) {
    const own = (type: string) => annotations.find((a) => a.type === type)?.description;
    const whole = verdict(result, annotations);
    const caseId = own('case') ?? (this.cases.has(test.parent.title) ? test.parent.title : undefined);
    if (caseId) return [{ caseId, request: own('request') ?? test.title, ...whole }];
    const c = this.cases.get(test.title);
    if (c) {
      return c.requests.map((request) => {
        const step = findStep(result.steps, request);
        if (step?.error) {
          return { caseId: c.id, request, ...verdict({ ...result, status: 'failed', errors: [step.error] }, []) };
        }
        return { caseId: c.id, request, ...whole };
      });
    }
    const other = test.titlePath().filter(Boolean).slice(2);
    const id = other.length > 1 ? other.slice(0, -1).join(' › ') : path.basename(test.location.file, '.spec.ts');
    if (!this.cases.has(id)) {
      this.cases.set(id, { id, title: id, area: '(other tests)', source: [], requests: [] });
    }
    const info = this.cases.get(id) as CaseInfo;
    if (!info.requests.includes(test.title)) info.requests.push(test.title);
    return [{ caseId: id, request: test.title, ...whole }];
  }

  async onEnd(result: FullResult): Promise<{ status?: FullResult['status'] } | undefined> {
    const state = readState();
    const setupMs = Object.values(state?.cases ?? {}).flatMap((c) =>
      [c, ...Object.values(c.perBrowser ?? {})].flatMap((r) => (r.applied ? [r.applied.propagationMs] : [])),
    );
    // Cases that did not run (another CORS_CASES, a -g filter) stay out of the matrix.
    const ran = new Set([...this.checks.values()].map((c) => c.case));
    const report: ConformanceReport = {
      format: FORMAT,
      runId: state?.runId ?? '(no run state: the set-up did not finish)',
      date: this.start.toISOString(),
      target: {
        kind: state?.kind ?? process.env.CORS_TARGET ?? 'emulator',
        identity: shortenAccount(state?.target ?? '(unknown)'),
      },
      browsers: [...this.browsers].map(([name, version]) => ({ name, version })),
      durationMs: Math.round(result.duration),
      clientMs: this.clientMs,
      propagation: figures([...setupMs, ...this.sequencePropagation]),
      clients: orderClients([...this.clients, ...[...this.checks.values()].map((c) => c.client)]),
      cases: [...this.cases.values()].filter((c) => ran.has(c.id)),
      checks: Object.fromEntries([...this.checks].sort(([a], [b]) => a.localeCompare(b))),
    };
    let status: FullResult['status'] | undefined;
    const baseline = process.env.CORS_BASELINE;
    if (baseline) {
      try {
        report.changes = diffReports(readReport(baseline), report);
      } catch (error) {
        console.error(`[r2-cors] CORS_BASELINE: ${(error as Error).message}`);
        status = 'failed';
      }
    }
    const observations = [...this.observations.values()].flat();
    write(path.join(this.outputDir, 'conformance.json'), JSON.stringify(report, null, 2));
    write(
      path.join(this.outputDir, 'observations.json'),
      JSON.stringify(
        {
          format: 'r2-cors-observations/1',
          runId: report.runId,
          date: report.date,
          target: report.target,
          observations,
        },
        null,
        2,
      ),
    );
    write(path.join(this.outputDir, 'summary.md'), renderSummary(report));
    write(path.join(this.outputDir, 'conformance', 'index.html'), renderPage(report));
    console.log(`[r2-cors] conformance page: ${path.join(this.outputDir, 'conformance', 'index.html')}`);
    return status ? { status } : undefined;
  }
}

function write(file: string, text: string) {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

function readState(): RunState | undefined {
  const merged = process.env.R2_CORS_MERGE_STATES;
  if (merged) return mergedState(readRunStates(merged));
  const file = process.env.R2_CORS_RUN_STATE;
  if (!file) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunState;
  } catch {
    return undefined;
  }
}

/**
 * The runs of a merged report (the shards of `npm run nightly`) as one: their cases side by side, the
 * target they share, and the run ids first … last with how many.
 */
function mergedState(states: RunState[]): RunState | undefined {
  if (states.length <= 1) return states[0];
  const targets = [...new Set(states.map((s) => s.target))];
  const [first, last] = [states[0], states[states.length - 1]];
  return {
    runId: `${first.runId} … ${last.runId} (${states.length} runs)`,
    target: targets.join(', '),
    kind: first.kind,
    deadlineMs: first.deadlineMs,
    cases: Object.assign({}, ...states.map((s) => s.cases)),
  };
}

function orderClients(names: string[]): string[] {
  const unique = [...new Set(names)];
  return [...CLIENTS.filter((c) => unique.includes(c)), ...unique.filter((c) => !CLIENTS.includes(c))];
}

function describe(a: Annotation): string {
  return a.type === 'note' ? (a.description ?? '') : `${a.type}: ${a.description ?? ''}`;
}

function pathText(p: (string | number)[]): string {
  return p.map((x, i) => (typeof x === 'number' ? `[${x}]` : i === 0 ? x : `.${x}`)).join('');
}

function findStep(steps: TestStep[], request: string): TestStep | undefined {
  for (const s of steps) {
    if (s.title === request || s.title.startsWith(`${request} `)) return s;
    const inner = findStep(s.steps, request);
    if (inner) return inner;
  }
  return undefined;
}

/** The test's status as the page shows it, with its reasons and, for a failure, the message and its pointers. */
function verdict(
  result: Pick<TestResult, 'status' | 'errors'>,
  annotations: Annotation[],
): { status: CheckStatus; reasons: string[]; failure?: Check['failure'] } {
  const of = (type: string) => annotations.filter((a) => a.type === type).map((a) => a.description ?? '');
  if (result.status === 'skipped') return { status: 'skipped', reasons: of('skip') };
  if (result.status !== 'passed') {
    const message = result.errors
      .map((e) => (e.message ?? e.value ?? '').replace(ANSI, '').replace(/^Error: /, ''))
      .join('\n\n')
      .trim();
    const pointers: Pointer[] = [...message.matchAll(/^--> (\S+):(\d+):(\d+)\s+(.*)$/gm)].map((m) => ({
      file: m[1],
      line: Number(m[2]),
      col: Number(m[3]),
      path: m[4],
    }));
    return {
      status: 'failed',
      reasons: [],
      failure: { message: message || `test ${result.status}`, pointers },
    };
  }
  const deviation = of('known deviation');
  if (deviation.length > 0) return { status: 'deviation', reasons: deviation };
  const assumed = [...new Set(of('assumed'))];
  if (assumed.length > 0) return { status: 'assumed', reasons: assumed };
  return { status: 'passed', reasons: [] };
}
