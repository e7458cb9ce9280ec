import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadCases } from '../cases/load.ts';
import { R2_PROFILE } from '../cors/profile.ts';
import { calibrate as calibrateRun, calibrationText, hasFindings, type ObservationsFile } from '../report/calibrate.ts';
import { readReport } from '../report/conformance.ts';
import { EXIT, parseOptions, UsageError } from './usage.ts';

/** `r2-cors calibrate`: its name, summary and help are in commands.ts. */
export function run(args: string[]): number {
  const { values, positionals } = parseOptions('calibrate', args, {
    cases: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length !== 1)
    throw new UsageError('calibrate: give one observations file (reports/observations.json)');
  const file = positionals[0];
  let observations: ObservationsFile;
  try {
    observations = JSON.parse(readFileSync(file, 'utf8')) as ObservationsFile;
  } catch (error) {
    throw new UsageError(`calibrate: cannot read ${file}: ${(error as Error).message}`);
  }
  if (observations?.format !== 'r2-cors-observations/1' || !Array.isArray(observations.observations))
    throw new UsageError(`calibrate: ${file} is not an observations file (reports/observations.json of a run)`);
  const corpus = loadCases([values.cases ?? 'cases']);
  if (corpus.missing.length > 0)
    throw new UsageError(`calibrate: no such file or folder: ${corpus.missing.join(', ')}`);
  const beside = path.join(path.dirname(file), 'conformance.json');
  let report: ReturnType<typeof readReport> | undefined;
  try {
    report = existsSync(beside) ? readReport(beside) : undefined;
  } catch {
    report = undefined;
  }
  const result = calibrateRun(R2_PROFILE, observations, corpus.cases, report);
  console.log(values.json ? JSON.stringify(result, null, 2) : calibrationText(result));
  return hasFindings(result) ? EXIT.findings : EXIT.ok;
}
