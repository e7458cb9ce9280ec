import { readReport } from '../report/conformance.ts';
import { diffLines, diffReports } from '../report/diff.ts';
import { type Command, EXIT, parseOptions, UsageError } from './usage.ts';

export const diff: Command = {
  name: 'diff',
  summary: 'what changed between two runs (two conformance.json)',
  help: `Usage: r2-cors diff <old conformance.json> <new conformance.json> [--json | --markdown]

Compares two runs' reports/conformance.json, check by check (case › request › client):

  newly failing / newly passing   checks whose result changed
  new cases / removed cases       cases in only one of the runs
  raw header values that changed  status and access-control-* / vary values of the raw exchanges

A run given CORS_BASELINE=<old conformance.json> opens its conformance page and summary.md with the same.

  --json       print the changes as JSON
  --markdown   print them as Markdown (as in summary.md)

Exit status: 0 (a change is news, not an error), 2 usage error or unreadable file.`,
  run(args) {
    const { values, positionals } = parseOptions('diff', args, {
      json: { type: 'boolean' },
      markdown: { type: 'boolean' },
    });
    if (positionals.length !== 2) throw new UsageError('diff: give two files: the old and the new conformance.json');
    let reports: ReturnType<typeof readReport>[];
    try {
      reports = positionals.map(readReport);
    } catch (error) {
      throw new UsageError(`diff: ${(error as Error).message}`);
    }
    const changes = diffReports(reports[0], reports[1]);
    if (values.json) console.log(JSON.stringify(changes, null, 2));
    else console.log(diffLines(changes, values.markdown ? 'markdown' : 'text').join('\n'));
    return EXIT.ok;
  },
};
