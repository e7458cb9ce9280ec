/**
 * Runs the conformance suite (`playwright test --project=raw`) in a child process, as a user would, with its own
 * state directory, and reads its JSON report.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { collectOutput } from '../child-output.ts';
import { ROOT } from '../cli/run-cli.ts';
import { tempDir } from '../temp-dir.ts';

export const PLAYWRIGHT = path.join(ROOT, 'node_modules/@playwright/test/cli.js');

export interface SuiteResult {
  code: number | null;
  output: string;
  /** `[project] <case-id> › <test title>` (raw: without the project) → status, error message, attachments. */
  tests: Map<
    string,
    {
      status: string;
      error: string;
      attachments: Record<string, string>;
      annotations: { type: string; description?: string }[];
      workerIndex?: number;
    }
  >;
}

interface JsonSuite {
  title: string;
  suites?: JsonSuite[];
  specs?: {
    title: string;
    tests: {
      projectName: string;
      annotations?: { type: string; description?: string }[];
      results: {
        status: string;
        workerIndex?: number;
        error?: { message?: string };
        attachments?: { name: string; body?: string }[];
        annotations?: { type: string; description?: string }[];
      }[];
    }[];
  }[];
}

function collect(suite: JsonSuite, into: SuiteResult['tests'], parent = '') {
  // File suites (`raw.spec.ts`) add nothing to a title; describe blocks (the case id) do.
  const title = suite.title.endsWith('.ts') ? parent : parent ? `${parent} › ${suite.title}` : suite.title;
  for (const spec of suite.specs ?? []) {
    for (const t of spec.tests) {
      const result = t.results.at(-1);
      const attachments = Object.fromEntries(
        (result?.attachments ?? []).map((a) => [a.name, a.body ? Buffer.from(a.body, 'base64').toString('utf8') : '']),
      );
      const project = t.projectName === 'raw' ? '' : `[${t.projectName}] `;
      into.set(`${project}${title} › ${spec.title}`, {
        status: result?.status ?? 'none',
        error: result?.error?.message ?? '',
        attachments,
        annotations: result?.annotations ?? t.annotations ?? [],
        workerIndex: result?.workerIndex,
      });
    }
  }
  for (const child of suite.suites ?? []) collect(child, into, title);
}

/** The reports of child runs are read while the test file runs, then dropped with it (test/temp-dir.ts). */
function reportsDir(): string {
  return tempDir('r2-cors-reports-');
}

/**
 * The environment of a child run: no run state or journal of the parent leaks in, and its state and reports
 * go to folders of its own, so that self-tests can run at the same time as each other and as the suite
 * (`npm test` runs test files concurrently; Playwright empties its output folder when a run starts).
 */
export function suiteEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env))
    if (key.startsWith('R2_') || key.startsWith('CORS_') || key.startsWith('CLOUDFLARE_')) delete env[key];
  delete env.NODE_EXTRA_CA_CERTS;
  return {
    ...env,
    R2_CORS_STATE_DIR: tempDir('r2-cors-state-'),
    CORS_REPORTS_DIR: reportsDir(),
    ...extra,
  };
}

/**
 * For a child run of a few raw checks that take milliseconds: one Playwright worker. Each further worker is a
 * process that costs seconds of CPU to start, and what such a self-test asserts (messages, reports, restores)
 * does not depend on how many workers ran the checks.
 */
export const ONE_WORKER = { CORS_WORKERS: '1' } as const;

export function startSuite(
  env: NodeJS.ProcessEnv,
  projects = ['raw'],
): { child: ChildProcess; report: string; output: () => string } {
  const report = path.join(tempDir('r2-cors-report-'), 'results.json');
  const child = spawn(
    process.execPath,
    [PLAYWRIGHT, 'test', ...projects.map((p) => `--project=${p}`), '--reporter=json'],
    {
      cwd: ROOT,
      env: { ...env, PLAYWRIGHT_JSON_OUTPUT_NAME: report, CI: '' },
      detached: true,
    },
  );
  return { child, report, output: collectOutput(child) };
}

export async function runSuite(env: NodeJS.ProcessEnv, projects = ['raw']): Promise<SuiteResult> {
  const { child, report, output } = startSuite(env, projects);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const tests: SuiteResult['tests'] = new Map();
  try {
    const json = JSON.parse(readFileSync(report, 'utf8')) as { suites: JsonSuite[] };
    for (const suite of json.suites) collect(suite, tests);
  } catch {
    // No report: the run stopped before any test (its output says why).
  }
  return { code, output: output(), tests };
}
