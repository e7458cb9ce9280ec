/**
 * `Range` on GET (RFC 9110 §14): one byte range, `bytes=first-[last]` or the suffix `bytes=-length`. S3, and R2
 * with it, serve a single range; a header that is not one valid range is ignored and the whole object is sent.
 */

export type RangeOutcome =
  /** No usable Range header: the whole object, 200. */
  | { kind: 'whole' }
  /** 206 with these inclusive offsets. */
  | { kind: 'partial'; start: number; end: number }
  /** 416: no byte of the object is in the range. */
  | { kind: 'unsatisfiable' };

export function parseRange(header: string | undefined, size: number): RangeOutcome {
  const m = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'whole' };
  if (m[1] === '') {
    // A suffix range: the last N bytes; a suffix of zero bytes selects nothing.
    const length = Number(m[2]);
    if (length === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(m[1]);
  const last = m[2] === '' ? undefined : Number(m[2]);
  // A last position before the first makes the range invalid, and an invalid range is ignored (§14.1.1).
  if (last !== undefined && last < start) return { kind: 'whole' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: Math.min(last ?? size - 1, size - 1) };
}

// Content-Range of a 206 (`bytes first-last/size`), or of a 416 (`bytes */size`).
export function contentRange(outcome: RangeOutcome, size: number): string | undefined {
  if (outcome.kind === 'partial') return `bytes ${outcome.start}-${outcome.end}/${size}`;
  if (outcome.kind === 'unsatisfiable') return `bytes */${size}`;
  return undefined;
}
