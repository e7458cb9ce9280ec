/** Reading a policy file of any of R2's three formats, with problems placed at their line and column. */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { locateIn } from '../schema/locate.ts';
import type { Problem } from '../schema/problems.ts';
import { type ParsedPolicy, parsePolicyText } from './formats.ts';
import { atPath } from './model.ts';

export type PolicyFileResult =
  | { readable: false; error: string }
  | { readable: true; parsed: ParsedPolicy; problems: Problem[] };

/**
 * `shownAs` is the name problems carry. JSON is YAML, so the yaml parser gives positions inside a JSON file;
 * XML problems point at the file's start and name their element path in the message.
 */
export function readPolicyFile(file: string, shownAs: string = file): PolicyFileResult {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { readable: false, error: code === 'ENOENT' ? 'no such file' : (code ?? (error as Error).message) };
  }
  const parsed = parsePolicyText(text);
  if (parsed.ok) return { readable: true, parsed, problems: [] };
  const lines = new LineCounter();
  const doc = parsed.format === 'xml' ? undefined : parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const problems = parsed.problems.map((p): Problem => {
    if (doc) return { file: shownAs, ...locateIn(doc, lines, p.path, p.atKey), path: p.path, message: p.message };
    return { file: shownAs, line: 1, col: 1, path: [], message: atPath(p.path, p.message) };
  });
  return { readable: true, parsed, problems };
}
