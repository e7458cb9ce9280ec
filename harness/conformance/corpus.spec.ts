/**
 * One test per case file: it must load cleanly (schema, R2's policy rules, unique ids, seeded objects).
 * A broken case fails here with the same `file:line:col  field: message` lines `r2-cors lint` prints.
 */
import { expect, test } from '@playwright/test';
import { findCaseFiles, loadCases } from '../cases/load.ts';
import { formatProblem } from '../cases/problems.ts';

const { files } = findCaseFiles(['cases']);
const all = loadCases(['cases']);

for (const file of files) {
  const shown = file.slice(process.cwd().length + 1);
  test(shown, () => {
    const problems = all.problems.filter((p) => p.file === shown || p.message.endsWith(`(policy of ${shown})`));
    expect(problems.map(formatProblem), 'problems in this case file').toEqual([]);
    expect(all.cases.some((c) => c.file === shown)).toBe(true);
  });
}
