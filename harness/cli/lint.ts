import { loadCases } from '../cases/load.ts';
import { formatProblem } from '../schema/problems.ts';
import { type Command, EXIT, parseOptions, UsageError } from './usage.ts';

export const lint: Command = {
  name: 'lint',
  summary: 'validate case files',
  help: `Usage: r2-cors lint [paths…]

Validates case files (every .yaml/.yml under the given files and folders; default: cases) against the case
schema and R2's policy rules, and checks that ids are unique and that requested objects exist. Prints every
problem of every file, one per line:

  cases/presigned/put.yaml:14:7  requests[1].expect.preflight.status: must be a whole number

Exit status: 0 no problems, 1 problems found, 2 a path does not exist.`,
  run(args) {
    const { positionals } = parseOptions('lint', args, {});
    const paths = positionals.length > 0 ? positionals : ['cases'];
    const result = loadCases(paths);
    if (result.missing.length > 0) throw new UsageError(`lint: no such file or folder: ${result.missing.join(', ')}`);
    for (const problem of result.problems) console.log(formatProblem(problem));
    const files = result.files.length;
    if (files === 0) throw new UsageError(`lint: no case files (.yaml) under ${paths.join(', ')}`);
    const bad = new Set(result.problems.map((p) => p.file)).size;
    console.log(
      result.problems.length === 0
        ? `${files} case file(s), no problems`
        : `${result.problems.length} problem(s) in ${bad} of ${files} file(s)`,
    );
    return result.problems.length === 0 ? EXIT.ok : EXIT.findings;
  },
};
