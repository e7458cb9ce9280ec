/** Positions of paths inside a YAML (or JSON) document, for pointing problems into the file. */
import { type Document, isMap, isNode, isPair, isScalar, isSeq, type LineCounter, type Node } from 'yaml';
import type { DocPath } from '../policy/model.ts';

/** A place in a data file, 1-based. */
export interface Position {
  line: number;
  col: number;
}

/**
 * The position of `path` in `doc`. With `atKey`, the position of the last segment's key (for an unknown key);
 * otherwise of its value. A path that is not in the document resolves to its nearest existing ancestor.
 */
export function locateIn(doc: Document, lines: LineCounter, path: DocPath, atKey = false): Position {
  let node: unknown = doc.contents;
  let offset = node && isNode(node) ? (node.range?.[0] ?? 0) : 0;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    let next: unknown;
    let keyOffset: number | undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(segment));
      if (pair) {
        next = pair.value;
        keyOffset = isNode(pair.key) ? pair.key.range?.[0] : undefined;
      }
    } else if (isSeq(node) && typeof segment === 'number') {
      next = node.items[segment];
    }
    if (next === undefined && keyOffset === undefined) break;
    const last = i === path.length - 1;
    if (last && atKey && keyOffset !== undefined) {
      offset = keyOffset;
      break;
    }
    const range = next && isNode(next) ? (next as Node).range : undefined;
    // A key with an empty value (`key:`) has no value node: point at the key.
    offset = range ? range[0] : (keyOffset ?? offset);
    node = next;
  }
  return lines.linePos(offset);
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return typeof key === 'string' ? key : undefined;
}
