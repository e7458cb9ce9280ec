/**
 * The answer to GetObject / HeadObject, shared by the S3 API and the public entrypoints: preconditions first
 * (304, 412), then the range (206, 416), then the object. Errors in each surface's own style (S3 XML, HTML).
 */
import type { CorsProfile } from '../cors/profile.ts';
import { evaluatePreconditions } from './conditional.ts';
import { type HeaderList, htmlError, type Reply, s3Error } from './http.ts';
import { contentRange, parseRange } from './ranges.ts';
import type { StoredObject } from './store.ts';

export interface ObjectRequest {
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** The S3 API's query parameters (`x-amz-checksum-mode` of a presigned URL), absent on public hosts. */
  query?: Map<string, string>;
}

function objectHeaders(object: StoredObject): HeaderList {
  const headers: HeaderList = [
    ['Content-Type', object.contentType],
    ['ETag', object.etag],
    ['Last-Modified', object.lastModified.toUTCString()],
    ['Accept-Ranges', 'bytes'],
  ];
  for (const [name, value] of Object.entries(object.metadata)) headers.push([`x-amz-meta-${name}`, value]);
  return headers;
}

/** S3 returns a stored checksum of the whole object when asked with `x-amz-checksum-mode: ENABLED`. */
function checksumMode(request: ObjectRequest): boolean {
  const value = request.headers['x-amz-checksum-mode'] ?? request.query?.get('x-amz-checksum-mode');
  return value?.toUpperCase() === 'ENABLED';
}

export function objectReply(
  object: StoredObject,
  request: ObjectRequest,
  style: 'xml' | 'html',
  profile: CorsProfile,
): Reply {
  const headers = objectHeaders(object);
  const precondition = evaluatePreconditions(request.headers, object);
  if (precondition === 'not-modified') {
    // A 304 carries the validators of the 200 it stands for, and no body (RFC 9110 §15.4.5).
    return { status: 304, headers: headers.filter(([name]) => name === 'ETag' || name === 'Last-Modified') };
  }
  if (precondition === 'failed') {
    const message = 'At least one of the pre-conditions you specified did not hold';
    return style === 'xml'
      ? s3Error(412, 'PreconditionFailed', message)
      : htmlError(412, 'Precondition Failed', message);
  }
  const size = object.body.length;
  const range = parseRange(request.headers.range, size);
  if (range.kind === 'unsatisfiable') {
    const extra: HeaderList = [['Content-Range', contentRange(range, size) as string]];
    const { status, code, message } = profile.unsatisfiableRange;
    return style === 'xml'
      ? s3Error(status, code, message, extra)
      : htmlError(416, 'Range Not Satisfiable', message, extra);
  }
  if (range.kind === 'partial') {
    return {
      status: 206,
      headers: [...headers, ['Content-Range', contentRange(range, size) as string]],
      body: object.body.subarray(range.start, range.end + 1),
    };
  }
  if (object.checksum && checksumMode(request)) {
    headers.push([`x-amz-checksum-${object.checksum.algorithm}`, object.checksum.value]);
  }
  return { status: 200, headers, body: object.body };
}
