/**
 * Conditional GET and HEAD (RFC 9110 §13.2.2, which S3 follows): `If-Match`, `If-Unmodified-Since`,
 * `If-None-Match`, `If-Modified-Since`, evaluated in that order, before any `Range`.
 *   If-Match fails                                 → 412
 *   else If-Unmodified-Since (without If-Match)    → 412 when modified since
 *   If-None-Match matches                          → 304
 *   else If-Modified-Since (without If-None-Match) → 304 when not modified since
 */

export type Precondition = 'proceed' | 'not-modified' | 'failed';

/** An entity-tag list: `*`, or quoted tags (`W/` weak ones); S3 also takes a bare unquoted tag. */
function tags(value: string): string[] {
  return value
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

const opaque = (tag: string) => tag.replace(/^W\//, '').replace(/^"?/, '"').replace(/"?$/, '"');

/** If-Match compares strongly: a weak tag never matches. */
function strongMatch(list: string, etag: string): boolean {
  return tags(list).some((t) => t === '*' || (!t.startsWith('W/') && opaque(t) === etag));
}

/** If-None-Match compares weakly. */
function weakMatch(list: string, etag: string): boolean {
  return tags(list).some((t) => t === '*' || opaque(t) === etag);
}

/** An HTTP date, whole seconds; undefined when it is not one (the header is then ignored). */
function httpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : Math.floor(time / 1000);
}

export function evaluatePreconditions(
  headers: Record<string, string>,
  object: { etag: string; lastModified: Date },
): Precondition {
  const modified = Math.floor(object.lastModified.getTime() / 1000);
  const ifMatch = headers['if-match'];
  if (ifMatch !== undefined) {
    if (!strongMatch(ifMatch, object.etag)) return 'failed';
  } else {
    const since = httpDate(headers['if-unmodified-since']);
    if (since !== undefined && modified > since) return 'failed';
  }
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    if (weakMatch(ifNoneMatch, object.etag)) return 'not-modified';
  } else {
    const since = httpDate(headers['if-modified-since']);
    if (since !== undefined && modified <= since) return 'not-modified';
  }
  return 'proceed';
}
