/** A problem found in a data file, and the one way it is printed: `file:line:col  path: message`. */
import { type DocPath, formatPath } from '../policy/model.ts';

export interface Problem {
  file: string;
  line: number;
  col: number;
  /** Path of the field inside the file (`requests[1].expect.preflight.status`); empty for the whole file. */
  path: DocPath;
  message: string;
}

export function formatProblem(problem: Problem): string {
  const where = `${problem.file}:${problem.line}:${problem.col}`;
  const field = formatPath(problem.path);
  return field ? `${where}  ${field}: ${problem.message}` : `${where}  ${problem.message}`;
}

export function sortProblems(problems: Problem[]): Problem[] {
  return [...problems].sort(
    (a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line || a.col - b.col,
  );
}
