/**
 * Where a path of a case file stands in it, read from the file when first asked: for cases that came from the
 * run's cache of loaded cases (harness/conformance/run-cases.ts), which keeps their data but not their YAML.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import type { DocPath } from '../policy/model.ts';
import { locateIn, type Position } from '../schema/locate.ts';

/** A `locate` for the case file `file` (as the loader names it), parsing the file once, on its first call. */
export function fileLocator(file: string): (path: DocPath) => Position {
  let located: ((path: DocPath) => Position) | undefined;
  return (path) => {
    if (!located) {
      const lines = new LineCounter();
      const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter: lines, prettyErrors: false });
      located = (p) => locateIn(doc, lines, p);
    }
    return located(path);
  };
}
