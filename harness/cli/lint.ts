import { loadCases } from '../cases/load.ts';
import { formatProblem } from '../schema/problems.ts';
import { EXIT, parseOptions, UsageError } from './usage.ts';

/** `r2-cors lint`: its name, summary and help are in commands.ts. */
export function run(args: string[]): number {
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
}
