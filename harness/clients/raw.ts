/**
 * The raw HTTP client: what a browser would put on the wire for a case's request, sent with undici's `request`
 * (not `fetch`, which adds headers of its own). The preflight is sent when a browser would send one (the Fetch
 * model in harness/fetch/preflight.ts) or when the case asks; then the actual request, signed or presigned.
 */
import { type Dispatcher, request } from 'undici';
import type { CaseRequest } from '../cases/model.ts';
import { markupRequest } from '../fetch/initiators.ts';
import { decidePreflight } from '../fetch/preflight.ts';
import type { Target, TargetResponse } from '../targets/target.ts';
import { type SignedChecksum, tamperSignature } from './presign.ts';

export interface SentRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

export interface Leg {
  request: SentRequest;
  response: TargetResponse;
}

export interface RawExchange {
  preflight?: Leg;
  actual: Leg;
  /** Why the preflight was sent (empty when it was not). */
  preflightReasons: string[];
}

/** How long a presigned URL the harness makes is valid. */
const PRESIGN_SECONDS = 600;

async function send(dispatcher: Dispatcher, sent: SentRequest): Promise<Leg> {
  const response = await request(sent.url, {
    method: sent.method as Dispatcher.HttpMethod,
    headers: sent.headers,
    body: sent.body,
    dispatcher,
  });
  const body = await response.body.text();
  return { request: sent, response: { status: response.statusCode, headers: response.headers, body } };
}

/**
 * The URL a case's request goes to: presigned (by the case's presigner, expired or tampered when it says so), or
 * the object's URL on its surface. Shared with the browsers.
 */
export async function requestUrl(target: Target, bucket: string, prefix: string, r: CaseRequest): Promise<string> {
  const key = `${prefix}${r.key}`;
  if (r.auth !== 'presigned') {
    const url = await target.objectUrl(r.surface, bucket, key);
    return r.query ? `${url}?${new URLSearchParams(r.query)}` : url;
  }
  const signedAt = r.signedSecondsAgo === undefined ? undefined : new Date(Date.now() - r.signedSecondsAgo * 1000);
  const [checksum] = Object.entries(r.signedChecksum ?? {}).map(([algorithm, value]) => ({
    algorithm: algorithm as SignedChecksum['algorithm'],
    value: value as string,
  }));
  const options = { presigner: r.presigner, signedAt, checksum };
  const url = await target.presign(r.method, bucket, key, PRESIGN_SECONDS, r.query ?? {}, options);
  return r.tampered ? tamperSignature(url) : url;
}

/** The body a request sends: its text, or `bodyBytes` bytes (the letter a repeated; one byte each in UTF-8). */
export function requestBody(r: CaseRequest): string | undefined {
  return r.bodyBytes === undefined ? r.body : 'a'.repeat(r.bodyBytes);
}

export async function sendRaw(target: Target, bucket: string, prefix: string, r: CaseRequest): Promise<RawExchange> {
  const auth = r.auth ?? 'none';
  const url = await requestUrl(target, bucket, prefix, r);
  // Markup (an <img>, a font…) sends what the browser adds, and Origin only in cors mode; it is never preflighted.
  const markup = markupRequest(r);
  const pageHeaders = markup?.headers ?? r.headers ?? {};
  const origin: Record<string, string> = r.from === undefined || markup?.cors === false ? {} : { origin: r.from };

  const decision = decidePreflight(r.method, pageHeaders);
  const wanted =
    !markup && r.method !== 'OPTIONS' && r.from !== undefined && (decision.needed || r.sendPreflight === 'always');
  let preflight: Leg | undefined;
  if (wanted) {
    const headers: Record<string, string> = { ...origin, 'access-control-request-method': r.method };
    if (decision.requestHeaders.length > 0)
      headers['access-control-request-headers'] = decision.requestHeaders.join(',');
    preflight = await send(target.dispatcher, { method: 'OPTIONS', url, headers });
  }

  let headers: Record<string, string> = { ...pageHeaders, ...origin };
  const body = requestBody(r);
  if (auth === 'signed') headers = { ...headers, ...(await target.sign(r.method, url, headers, body)) };
  const actual = await send(target.dispatcher, { method: r.method, url, headers, body });
  const reasons = wanted ? (decision.needed ? decision.reasons : ['the case asks for it (sendPreflight: always)']) : [];
  return { preflight, actual, preflightReasons: reasons };
}
