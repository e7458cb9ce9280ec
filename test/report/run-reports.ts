/**
 * Runs the conformance suite as a user does (`playwright test`, the config's own reporters), its outputs in a
 * folder of their own (CORS_REPORTS_DIR), and reads the reports back.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ConformanceReport } from '../../harness/report/conformance.ts';
import { collectOutput } from '../child-output.ts';
import { ROOT } from '../cli/run-cli.ts';
import { PLAYWRIGHT, suiteEnv } from '../selftest/run-suite.ts';
import { tempDir } from '../temp-dir.ts';

export interface ReportedRun {
  code: number | null;
  output: string;
  /** The reports folder. */
  dir: string;
  report: () => ConformanceReport;
}

export async function runWithReports(
  settings: Record<string, string>,
  projects = ['raw'],
  env: NodeJS.ProcessEnv = suiteEnv({}),
): Promise<ReportedRun> {
  const dir = tempDir('r2-cors-reports-');
  const child = spawn(process.execPath, [PLAYWRIGHT, 'test', ...projects.map((p) => `--project=${p}`)], {
    cwd: ROOT,
    env: { ...env, CORS_BROWSERS: 'none', ...settings, CORS_REPORTS_DIR: dir, CI: '' },
  });
  const output = collectOutput(child);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return {
    code,
    output: output(),
    dir,
    report: () => JSON.parse(readFileSync(path.join(dir, 'conformance.json'), 'utf8')) as ConformanceReport,
  };
}
