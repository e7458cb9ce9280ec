/**
 * What a raw check saw on the wire, kept for the morning-after report (reports/observations.json) and for
 * `r2-cors calibrate`: the request line and the request's CORS headers, the status, every `access-control-*`
 * and `vary` header, and the error code of an error body. Redacted as the attachments are (check/redact.ts).
 * The raw spec attaches one per test (ATTACHMENT); the reporter collects them.
 */
import type { HttpExpectation, LoadedCase } from '../cases/model.ts';
import type { Mismatch } from '../check/expect.ts';
import { redactBody, redactUrl } from '../check/redact.ts';
import type { Leg, RawExchange } from '../clients/raw.ts';
import { type DocPath, formatPath } from '../policy/model.ts';

/** The attachment name the raw spec gives an observation. */
export const ATTACHMENT = 'r2-cors observation';

/** The request headers a CORS exchange turns on. */
const CORS_REQUEST_HEADERS = ['origin', 'access-control-request-method', 'access-control-request-headers'];

export interface ObservedLeg {
  /** `preflight` (the OPTIONS a browser would send first) or `actual`. */
  leg: 'preflight' | 'actual';
  /** `METHOD /path` (presigned query redacted). */
  requestLine: string;
  /** Origin, Access-Control-Request-Method and -Headers as sent (lower-case names). */
  requestHeaders: Record<string, string>;
  status: number;
  /** Every access-control-* and vary header (lower-case names; repeated headers joined with ", "). */
  headers: Record<string, string>;
  /** The error of an error body: S3 XML `<Code>`/`<Message>`, or the title and text of an HTML error page. */
  error?: { code: string; message?: string };
}

/** An `assumed:` expectation, and whether the target answered as assumed. */
export interface AssumedResult {
  /** Path in the case file, e.g. `requests[0].expect.preflight.headers.access-control-allow-origin`. */
  path: string;
  why: string;
  held: boolean;
}

export interface Observation {
  /** Target kind: emulator, r2 or s3. */
  target: string;
  case: string;
  request: string;
  /** s3, public, custom; `s3-api`/`rest-api` for a policy refusal. */
  surface: string;
  legs: ObservedLeg[];
  /** A policy refusal check: the error the API gave, or `accepted`. */
  refusal?: { api: 's3' | 'rest'; answer: string };
  assumed: AssumedResult[];
}

/** Error code and message of an error body, as far as its format shows them (entities decoded). */
export function errorOf(body: string): ObservedLeg['error'] {
  const xml = /<Code>([^<]*)<\/Code>/.exec(body);
  if (xml)
    return { code: unescapeHtml(xml[1]), message: maybeUnescaped(/<Message>([^<]*)<\/Message>/.exec(body)?.[1]) };
  const title = /<title>([^<]*)<\/title>/i.exec(body);
  if (title) return { code: unescapeHtml(title[1]), message: maybeUnescaped(/<p>([^<]*)<\/p>/i.exec(body)?.[1]) };
  return undefined;
}

function maybeUnescaped(text: string | undefined) {
  return text === undefined ? undefined : unescapeHtml(text);
}

function unescapeHtml(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", apos: "'" };
  return text.replace(/&(amp|lt|gt|quot|#39|apos);/g, (_, n: string) => named[n]);
}

function observeLeg(kind: ObservedLeg['leg'], l: Leg): ObservedLeg {
  const redacted = redactUrl(l.request.url);
  const q = redacted.indexOf('?');
  const url = new URL(q < 0 ? redacted : redacted.slice(0, q));
  const query = q < 0 ? '' : redacted.slice(q);
  const requestHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(l.request.headers)) {
    if (CORS_REQUEST_HEADERS.includes(name.toLowerCase())) requestHeaders[name.toLowerCase()] = value;
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(l.response.headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || !(lower.startsWith('access-control-') || lower === 'vary')) continue;
    headers[lower] = [value].flat().join(', ');
  }
  const out: ObservedLeg = {
    leg: kind,
    requestLine: `${l.request.method} ${url.pathname}${query}`,
    requestHeaders,
    status: l.response.status,
    headers,
  };
  const error = l.response.status >= 400 ? errorOf(redactBody(l.response.body)) : undefined;
  if (error) out.error = error;
  return out;
}

export function observeExchange(exchange: RawExchange): ObservedLeg[] {
  return [
    ...(exchange.preflight ? [observeLeg('preflight', exchange.preflight)] : []),
    observeLeg('actual', exchange.actual),
  ];
}

/** Every `assumed:` mark of a case: path of the expectation it sits on, and why. */
export function assumedMarks(c: LoadedCase): { path: DocPath; why: string }[] {
  const out: { path: DocPath; why: string }[] = [];
  const http = (e: HttpExpectation | undefined, at: DocPath) => {
    if (!e) return;
    if (e.assumed) out.push({ path: at, why: e.assumed });
    for (const [name, m] of Object.entries(e.headers ?? {}))
      if (typeof m !== 'string' && m.assumed) out.push({ path: [...at, 'headers', name], why: m.assumed });
  };
  for (const step of c.steps) {
    if (step.kind === 'request') {
      const expect = step.request.expect ?? {};
      http(expect.preflight, [...step.path, 'expect', 'preflight']);
      http(expect.response, [...step.path, 'expect', 'response']);
      if (expect.browser?.assumed) out.push({ path: [...step.path, 'expect', 'browser'], why: expect.browser.assumed });
    } else if (step.kind === 'apply' && step.rejected?.assumed) {
      out.push({ path: [...step.path.slice(0, -1), 'rejected'], why: step.rejected.assumed });
    }
  }
  return out;
}

const startsWith = (path: DocPath, prefix: DocPath) => prefix.every((part, i) => path[i] === part);

/** The assumed marks under `within` (a request's raw expectations, a refusal), each held unless a mismatch sits under it. */
export function assumedResults(c: LoadedCase, within: DocPath[], mismatches: Mismatch[]): AssumedResult[] {
  return assumedMarks(c)
    .filter((m) => within.some((w) => startsWith(m.path, w)))
    .map((m) => ({
      path: formatPath(m.path),
      why: m.why,
      held: !mismatches.some((x) => startsWith(x.path, m.path)),
    }));
}

export function observationText(o: Observation): string {
  return JSON.stringify(o, null, 2);
}
