import { readReport } from '../report/conformance.ts';
import { diffLines, diffReports } from '../report/diff.ts';
import { EXIT, parseOptions, UsageError } from './usage.ts';

/** `r2-cors diff`: its name, summary and help are in commands.ts. */
export function run(args: string[]): number {
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
}
