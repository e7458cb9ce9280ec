import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { loadCases } from '../cases/load.ts';
import { R2_PROFILE } from '../cors/profile.ts';
import { calibrate as calibrateRun, calibrationText, hasFindings, type ObservationsFile } from '../report/calibrate.ts';
import { readReport } from '../report/conformance.ts';
import { type Command, EXIT, parseOptions, UsageError } from './usage.ts';

export const calibrate: Command = {
  name: 'calibrate',
  summary: "say which of the profile's assumptions a run confirmed or contradicted",
  help: `Usage: r2-cors calibrate <observations.json> [--cases PATH] [--json]

Reads the raw exchanges a run observed (reports/observations.json, written by every 'npx playwright test')
and, for every field of the profile of R2's undocumented behaviour (harness/cors/profile.ts), says:

  confirmed      the exchanges that show the field agree with the profile
  contradicted   with the value seen and the exchange that shows it
  not observed   naming the case that would observe it, or "no case observes this: add one"

Then, for every 'assumed:' expectation of the case files, whether it held on that target: raw expectations
from the observations, browser expectations from the conformance.json next to the observations (when there).
Run it on the observations of a live nightly to turn the profile's assumptions into facts.

  --cases PATH   the case files (default: cases), to name observers and list 'assumed:' expectations
  --json         print the calibration as JSON, for tools

Exit status: 0 nothing contradicted, 1 a field contradicted or an assumed expectation did not hold,
2 usage error or unreadable file.`,
  run(args) {
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
  },
};
