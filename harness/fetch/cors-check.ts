/**
 * What a browser does with the responses it received: the Fetch standard's CORS check, preflight check and
 * response-header filtering. Reasons are named as Chromium names them (CDP `Network.CorsError`), so a
 * prediction can be compared with what Chromium reports.
 *
 * https://fetch.spec.whatwg.org/#cors-check
 * https://fetch.spec.whatwg.org/#cors-preflight-fetch
 * https://fetch.spec.whatwg.org/#cors-safelisted-response-header-name
 */

export type Credentials = 'omit' | 'same-origin' | 'include';

/** Response headers as received: lower-case name → every value, in order. */
export type ReceivedHeaders = Map<string, string[]>;

export function receivedHeaders(pairs: Iterable<[string, string]>): ReceivedHeaders {
  const map: ReceivedHeaders = new Map();
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    map.set(key, [...(map.get(key) ?? []), value]);
  }
  return map;
}

export interface Verdict {
  ok: boolean;
  /** Chromium's corsError name when not ok. */
  reason?: string;
  detail?: string;
}

const ok: Verdict = { ok: true };

/** Credentials are sent cross-origin only in mode `include`. */
const sendsCredentials = (credentials: Credentials) => credentials === 'include';

function splitList(values: string[] | undefined): string[] {
  return (values ?? [])
    .join(',')
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/** The CORS check on a response (the actual one, or with `preflight` the preflight's). */
export function corsCheck(
  headers: ReceivedHeaders,
  origin: string,
  credentials: Credentials,
  preflight = false,
): Verdict {
  const prefix = preflight ? 'Preflight' : '';
  const fail = (reason: string, detail: string): Verdict => ({ ok: false, reason: `${prefix}${reason}`, detail });
  const values = headers.get('access-control-allow-origin');
  if (!values || values.length === 0) return fail('MissingAllowOriginHeader', 'no Access-Control-Allow-Origin header');
  // Two headers, or one with a list, are not one origin.
  if (values.length > 1 || values[0].includes(',')) {
    return fail('MultipleAllowOriginValues', `Access-Control-Allow-Origin has several values: ${values.join(', ')}`);
  }
  const value = values[0];
  if (value === '*') {
    if (!sendsCredentials(credentials)) return ok;
    return fail('WildcardOriginNotAllowed', "Access-Control-Allow-Origin '*' is not allowed with credentials");
  }
  if (value !== origin) {
    return fail('AllowOriginMismatch', `Access-Control-Allow-Origin '${value}' is not the page's origin '${origin}'`);
  }
  if (!sendsCredentials(credentials)) return ok;
  const allowCredentials = headers.get('access-control-allow-credentials');
  if (allowCredentials?.length !== 1 || allowCredentials[0] !== 'true') {
    return fail('InvalidAllowCredentials', "credentialed request without 'Access-Control-Allow-Credentials: true'");
  }
  return ok;
}

export interface PreflightOutcome extends Verdict {
  /** Seconds the browser may cache this preflight (default 5 when the header is absent or invalid). */
  maxAge?: number;
}

/** Whether a preflight response lets the actual request go ahead. */
export function preflightCheck(
  status: number,
  headers: ReceivedHeaders,
  request: { origin: string; method: string; requestHeaders: string[]; credentials: Credentials },
): PreflightOutcome {
  // The CORS check comes first, then the status (Fetch, CORS-preflight fetch; Chromium reports in this order).
  const check = corsCheck(headers, request.origin, request.credentials, true);
  if (!check.ok) return { ...check, detail: `${check.detail} on the preflight (status ${status})` };
  if (status < 200 || status > 299) {
    return { ok: false, reason: 'PreflightInvalidStatus', detail: `preflight answered ${status}, not 2xx` };
  }
  const wildcardAllowed = !sendsCredentials(request.credentials);

  // Method names compare case-sensitively; GET, HEAD and POST need no permission.
  const methods = splitList(headers.get('access-control-allow-methods'));
  const methodAllowed =
    ['GET', 'HEAD', 'POST'].includes(request.method) ||
    methods.includes(request.method) ||
    (wildcardAllowed && methods.includes('*'));
  if (!methodAllowed) {
    return {
      ok: false,
      reason: 'MethodDisallowedByPreflightResponse',
      detail: `method ${request.method} is not in Access-Control-Allow-Methods '${methods.join(', ')}'`,
    };
  }
  // Header names compare case-insensitively. The standard keeps `authorization` out of `*`.
  const allowed = splitList(headers.get('access-control-allow-headers')).map((h) => h.toLowerCase());
  for (const name of request.requestHeaders) {
    const byWildcard = wildcardAllowed && allowed.includes('*') && name !== 'authorization';
    if (!allowed.includes(name) && !byWildcard) {
      return {
        ok: false,
        reason: 'HeaderDisallowedByPreflightResponse',
        detail: `header ${name} is not in Access-Control-Allow-Headers '${allowed.join(', ')}'`,
      };
    }
  }
  const rawMaxAge = headers.get('access-control-max-age')?.[0];
  const maxAge = rawMaxAge !== undefined && /^[0-9]+$/.test(rawMaxAge) ? Number(rawMaxAge) : 5;
  return { ok: true, maxAge };
}

const SAFELISTED_RESPONSE_HEADERS = [
  'cache-control',
  'content-language',
  'content-length',
  'content-type',
  'expires',
  'last-modified',
  'pragma',
];

/** Response header names JavaScript can read on a CORS response. */
export function readableHeaders(headers: ReceivedHeaders, credentials: Credentials): string[] {
  const exposed = splitList(headers.get('access-control-expose-headers')).map((h) => h.toLowerCase());
  const all = [...headers.keys()];
  if (exposed.includes('*') && !sendsCredentials(credentials))
    return all.filter((h) => h !== 'set-cookie' && h !== 'set-cookie2');
  return all.filter((h) => SAFELISTED_RESPONSE_HEADERS.includes(h) || exposed.includes(h));
}
