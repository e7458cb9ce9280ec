/**
 * Values one request of a case hands to later ones, as a multipart upload needs: CreateMultipartUpload answers
 * an `UploadId` the parts and the Complete must name, and each UploadPart answers an `ETag` the Complete lists.
 *
 *   capture: { uploadId: { xml: UploadId } }        the text of the body's first <UploadId> element
 *   capture: { etag1: { header: etag } }            a response header
 *   query: { uploadId: '${uploadId}' }              used later in query values, header values and the body
 *
 * A value is what the client read: the raw client reads every header; a page reads only what CORS lets
 * JavaScript read, so a browser check that captures a header the policy does not expose fails there, naming the
 * capture, and a later request never runs with a value nobody could read. The loader refuses a `${name}` that
 * no earlier request captures (checkCaptures), so a typo is found before anything runs.
 */
import { type DocPath, formatPath } from '../policy/model.ts';
import type { Capture, CaseRequest, LoadedCase, Step } from './model.ts';

/** `${name}`: a letter, then letters, digits or `_`. Anything else inside `${…}` is refused by the loader. */
const REFERENCE = /\$\{([^}]*)\}/g;
const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** The names a text refers to, in order (invalid ones too, for the loader to refuse). */
export function referencesIn(text: string): string[] {
  return [...text.matchAll(REFERENCE)].map((m) => m[1]);
}

/** Whether a case hands values from request to request (it then runs as a sequence: in order, in one worker). */
export function usesCaptures(c: LoadedCase): boolean {
  return c.steps.some((s) => s.kind === 'request' && s.request.capture !== undefined);
}

/** The fields of a request where `${name}` is substituted, each with its path under the request. */
function substitutable(r: CaseRequest): { at: DocPath; text: string }[] {
  const out: { at: DocPath; text: string }[] = [];
  for (const [name, value] of Object.entries(r.query ?? {})) out.push({ at: ['query', name], text: value });
  for (const [name, value] of Object.entries(r.headers ?? {})) out.push({ at: ['headers', name], text: value });
  if (r.body !== undefined) out.push({ at: ['body'], text: r.body });
  return out;
}

/**
 * Loader check: every `${name}` is a valid name captured by an earlier request of the case, no name is captured
 * twice, and `${…}` appears only where it is substituted.
 */
export function checkCaptures(steps: Step[], report: (path: DocPath, message: string) => void) {
  const captured = new Map<string, DocPath>();
  for (const step of steps) {
    if (step.kind !== 'request') continue;
    const { request, path: at } = step;
    if (referencesIn(request.key).length > 0) {
      report([...at, 'key'], 'captured values are used in query, headers and body, not in key');
    }
    for (const { at: field, text } of substitutable(request)) {
      for (const name of referencesIn(text)) {
        if (!NAME.test(name)) {
          report(
            [...at, ...field],
            `'\${${name}}' is not a capture reference: a name is a letter, then letters, digits or _`,
          );
        } else if (!captured.has(name)) {
          const later = steps.find(
            (s) =>
              s.kind === 'request' &&
              s.request.capture?.[name] !== undefined &&
              steps.indexOf(s) >= steps.indexOf(step),
          );
          const hint = later
            ? `; ${formatPath([...later.path, 'capture', name])} captures it, but only for the requests after it`
            : `; capture it on an earlier request (capture: { ${name}: { header: … } } or { xml: … })`;
          report([...at, ...field], `uses \${${name}}, which no earlier request captures${hint}`);
        }
      }
    }
    for (const name of Object.keys(request.capture ?? {})) {
      const first = captured.get(name);
      if (first) report([...at, 'capture', name], `'${name}' is already captured by ${formatPath(first)}`);
      else captured.set(name, [...at, 'capture', name]);
    }
  }
}

/** A `${name}` whose value this run does not have: the request that captures it failed or did not run here. */
export class MissingCapture extends Error {
  constructor(
    readonly name: string,
    /** Where the value is used, under the request (`query.uploadId`, `body`). */
    readonly field: DocPath,
  ) {
    super(`\${${name}} has no value`);
  }
}

/** Captured values, by name, for one run of a case (one bucket: the raw client's, or one browser's). */
export type CapturedValues = Map<string, string>;

/**
 * The values captured so far per run of a case, in this worker. A sequence's requests run in order in one
 * worker (raw: a serial describe; browsers: the case's tests in order), so the worker's memory is where they
 * meet. Keyed by the bucket, which is the raw client's or one browser's own.
 */
const values = new Map<string, CapturedValues>();
export function capturedValues(caseId: string, bucket: string): CapturedValues {
  const key = `${caseId}\u0000${bucket}`;
  let found = values.get(key);
  if (!found) {
    found = new Map();
    values.set(key, found);
  }
  return found;
}

/** The request with every `${name}` of its query, header values and body replaced; throws MissingCapture. */
export function substitute(r: CaseRequest, known: CapturedValues): CaseRequest {
  const fill = (text: string, field: DocPath) =>
    text.replace(REFERENCE, (_, name: string) => {
      const value = known.get(name);
      if (value === undefined) throw new MissingCapture(name, field);
      return value;
    });
  const mapped = (record: Record<string, string> | undefined, field: string) =>
    record && Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fill(v, [field, k])]));
  return {
    ...r,
    query: mapped(r.query, 'query'),
    headers: mapped(r.headers, 'headers'),
    body: r.body === undefined ? undefined : fill(r.body, ['body']),
  };
}

/** What a client could read of a response: header values by lower-case name, and the body when it was read. */
export interface Readable {
  headers: Record<string, string | string[] | undefined>;
  body?: string;
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** A capture's value in a response, or why there is none. */
export function readCapture(capture: Capture, response: Readable): { value: string } | { missing: string } {
  if ('header' in capture) {
    const value = response.headers[capture.header];
    if (value === undefined) return { missing: `no ${capture.header} header` };
    if (Array.isArray(value)) return { missing: `${value.length} ${capture.header} headers` };
    return { value };
  }
  const match = new RegExp(`<${capture.xml.replace(/\./g, '\\.')}>([^<]*)</${capture.xml.replace(/\./g, '\\.')}>`).exec(
    response.body ?? '',
  );
  if (!match) return { missing: `no <${capture.xml}> element in the body` };
  return { value: match[1].replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => XML_ENTITIES[e]) };
}
