/**
 * SigV4 verification for the emulator's S3 API, header and presigned-query forms. The signature is recomputed
 * with @smithy/signature-v4 (the AWS SDK's own signer) over exactly what the client says it signed, and
 * compared in constant time; no SigV4 crypto is written here.
 *
 * R2 facts (shared/reference/r2-cors.md §5): region `auto`, with `us-east-1` and empty as aliases; X-Amz-Expires
 * 1 s … 604800 s; tampered → 403 SignatureDoesNotMatch; expired → 403 ExpiredRequest; over a week → 400
 * InvalidArgument; unknown access key → 401.
 *
 * Where R2's rules are not public, S3's are followed ([open] for R2; S3 docs "Signature Calculations for the
 * Authorization Header" and "Authenticating Requests: Using Query Parameters"):
 * - the header form needs `x-amz-content-sha256`, signed: the signature then covers the body through it, so a
 *   request is authenticated before its body is read, and the body is checked against it afterwards
 *   (`payloadProblem`);
 * - `SignedHeaders` must name `host`, and every header it names must be present;
 * - every `x-amz-*` header sent must be signed (403 AccessDenied "There were headers present in the request
 *   which were not signed"), except `x-amz-content-sha256` on a presigned URL, which signs no payload.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';

export interface S3Failure {
  status: number;
  code: string;
  message: string;
}

export interface IncomingSigned {
  method: string;
  /** The path exactly as sent on the wire (still percent-encoded). */
  rawPath: string;
  /** Query parameters in order, decoded (a `+` stays a `+`). */
  query: [string, string][];
  /** Lower-case header names; repeated headers joined with `,`. */
  headers: Record<string, string>;
  /** Not needed: the header form signs the body's hash (x-amz-content-sha256), the presigned form none. */
  body?: Buffer;
}

export type AuthOutcome =
  | { kind: 'anonymous' }
  | { kind: 'header' | 'presigned'; accessKeyId: string }
  | { kind: 'refused'; failure: S3Failure };

const REGIONS = new Set(['auto', 'us-east-1', '']);
const MAX_EXPIRES = 604_800;
/** AWS refuses a header-signed request whose X-Amz-Date is more than 15 minutes off. */
const MAX_SKEW_MS = 15 * 60 * 1000;
const PRESIGN_PARAMS = new Set([
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-expires',
  'x-amz-signedheaders',
  'x-amz-signature',
]);

const refused = (status: number, code: string, message: string): AuthOutcome => ({
  kind: 'refused',
  failure: { status, code, message },
});

/** `20240102T030405Z` → Date */
function parseAmzDate(value: string | undefined): Date | undefined {
  const m = value && /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

interface Scope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

/** `AKID/20240102/auto/s3/aws4_request` → parts; the access key id may itself contain no `/`. */
function parseCredential(value: string): Scope | undefined {
  const parts = value.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request') return undefined;
  return { accessKeyId: parts[0], date: parts[1], region: parts[2], service: parts[3] };
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function verifySigV4(
  request: IncomingSigned,
  secretFor: (accessKeyId: string) => string | undefined,
  now: Date = new Date(),
): Promise<AuthOutcome> {
  const authorization = request.headers.authorization;
  const queryNames = new Map(request.query.map(([k, v]) => [k.toLowerCase(), v]));
  if (authorization !== undefined) return verifyHeader(request, authorization, secretFor, now);
  if (queryNames.has('x-amz-signature') || queryNames.has('x-amz-credential')) {
    return verifyPresigned(request, queryNames, secretFor, now);
  }
  return { kind: 'anonymous' };
}

async function verifyHeader(
  request: IncomingSigned,
  authorization: string,
  secretFor: (id: string) => string | undefined,
  now: Date,
): Promise<AuthOutcome> {
  const m = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(
    authorization.trim(),
  );
  const scope = m && parseCredential(m[1]);
  if (!m || !scope) {
    return refused(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed.');
  }
  const problem = checkScope(scope, 'AuthorizationHeaderMalformed');
  if (problem) return problem;
  const secret = secretFor(scope.accessKeyId);
  // [src] R2 answers an unknown access key with 401.
  if (secret === undefined) return refused(401, 'Unauthorized', 'The access key ID you provided does not exist.');
  const date = parseAmzDate(request.headers['x-amz-date']);
  if (!date) return refused(400, 'AccessDenied', 'X-Amz-Date is missing or malformed.');
  if (Math.abs(now.getTime() - date.getTime()) > MAX_SKEW_MS) {
    return refused(
      403,
      'RequestTimeTooSkewed',
      'The difference between the request time and the current time is too large.',
    );
  }
  const signedHeaders = m[2].split(';');
  if (!signedHeaders.includes('host')) {
    return refused(400, 'AuthorizationHeaderMalformed', 'SignedHeaders must include host.');
  }
  if (!has(request.headers, 'x-amz-content-sha256') || !signedHeaders.includes('x-amz-content-sha256')) {
    return refused(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  }
  if (!signedHeaders.every((name) => has(request.headers, name))) return signatureMismatch();
  const signer = signerFor(scope, secret);
  const signed = await signer.sign(toHttpRequest(request, signedHeaders, request.query), {
    signingDate: date,
    signableHeaders: new Set(signedHeaders),
  });
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1] ?? '';
  if (!sameHex(expected, m[3])) return signatureMismatch();
  const unsigned = unsignedAmzHeaders(request.headers, signedHeaders);
  if (unsigned) return unsigned;
  return { kind: 'header', accessKeyId: scope.accessKeyId };
}

async function verifyPresigned(
  request: IncomingSigned,
  params: Map<string, string>,
  secretFor: (id: string) => string | undefined,
  now: Date,
): Promise<AuthOutcome> {
  const malformed = (message: string) => refused(400, 'AuthorizationQueryParametersError', message);
  if (params.get('x-amz-algorithm') !== 'AWS4-HMAC-SHA256')
    return malformed('X-Amz-Algorithm must be AWS4-HMAC-SHA256.');
  const scope = parseCredential(params.get('x-amz-credential') ?? '');
  if (!scope) return malformed('X-Amz-Credential is malformed.');
  const problem = checkScope(scope, 'AuthorizationQueryParametersError');
  if (problem) return problem;
  const date = parseAmzDate(params.get('x-amz-date'));
  if (!date) return malformed('X-Amz-Date is missing or malformed.');
  const expiresText = params.get('x-amz-expires') ?? '';
  if (!/^\d+$/.test(expiresText)) return malformed('X-Amz-Expires must be a number of seconds.');
  const expires = Number(expiresText);
  if (expires > MAX_EXPIRES) {
    return refused(400, 'InvalidArgument', 'X-Amz-Expires must be less than a week (in seconds) that is 604800');
  }
  if (expires < 1) return refused(400, 'InvalidArgument', 'X-Amz-Expires must be at least 1 second.');
  const signature = params.get('x-amz-signature') ?? '';
  const signedHeaders = (params.get('x-amz-signedheaders') ?? '').split(';').filter(Boolean);
  if (!signedHeaders.includes('host')) return malformed('X-Amz-SignedHeaders must include host.');
  if (!signedHeaders.every((name) => has(request.headers, name))) return signatureMismatch();
  const secret = secretFor(scope.accessKeyId);
  if (secret === undefined) return refused(401, 'Unauthorized', 'The access key ID you provided does not exist.');
  if (now.getTime() > date.getTime() + expires * 1000) return refused(403, 'ExpiredRequest', 'Request has expired');
  if (date.getTime() - now.getTime() > MAX_SKEW_MS) return refused(403, 'AccessDenied', 'Request is not valid yet');

  // Re-presign what the client presigned: same date, expiry, signed headers, and the other query parameters.
  // Presigned S3 URLs sign an unsigned payload; the header carrying that is neither signed nor moved to the query.
  const rest = request.query.filter(([k]) => !PRESIGN_PARAMS.has(k.toLowerCase()));
  const base = toHttpRequest(request, signedHeaders, rest);
  base.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  const keepInHeaders = new Set([...signedHeaders, 'x-amz-content-sha256']);
  const signer = signerFor(scope, secret);
  const presigned = await signer.presign(base, {
    signingDate: date,
    expiresIn: expires,
    signableHeaders: new Set(signedHeaders),
    unsignableHeaders: signedHeaders.includes('x-amz-content-sha256') ? undefined : new Set(['x-amz-content-sha256']),
    unhoistableHeaders: keepInHeaders,
  });
  const expected = String(presigned.query?.['X-Amz-Signature'] ?? '');
  if (!sameHex(expected, signature)) return signatureMismatch();
  const unsigned = unsignedAmzHeaders(request.headers, [...signedHeaders, 'x-amz-content-sha256']);
  if (unsigned) return unsigned;
  return { kind: 'presigned', accessKeyId: scope.accessKeyId };
}

/**
 * A signed payload hash must be the body's (S3: 400 XAmzContentSHA256Mismatch); UNSIGNED-PAYLOAD skips this.
 * Checked once the body has been read, after `verifySigV4` accepted a header-signed request.
 */
export function payloadProblem(headers: Record<string, string>, body: Buffer): S3Failure | undefined {
  const claimed = headers['x-amz-content-sha256'];
  if (!claimed || !/^[0-9a-f]{64}$/.test(claimed)) return undefined;
  if (claimed === createHash('sha256').update(body).digest('hex')) return undefined;
  return {
    status: 400,
    code: 'XAmzContentSHA256Mismatch',
    message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
  };
}

/** S3 refuses a request carrying an `x-amz-*` header its signature does not cover. */
function unsignedAmzHeaders(headers: Record<string, string>, signed: string[]): AuthOutcome | undefined {
  const unsigned = Object.keys(headers).filter((name) => name.startsWith('x-amz-') && !signed.includes(name));
  if (unsigned.length === 0) return undefined;
  return refused(403, 'AccessDenied', 'There were headers present in the request which were not signed');
}

/** Own properties only: a header named `constructor` or `__proto__` is not one the client sent. */
function has(headers: Record<string, string>, name: string): boolean {
  return Object.hasOwn(headers, name);
}

function checkScope(scope: Scope, code: string): AuthOutcome | undefined {
  if (scope.service !== 's3') return refused(400, code, `service '${scope.service}' is wrong; expecting 's3'`);
  if (!REGIONS.has(scope.region)) return refused(400, code, `region '${scope.region}' is wrong; expecting 'auto'`);
  return undefined;
}

function signatureMismatch(): AuthOutcome {
  return refused(
    403,
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. Check your secret access key and signing method.',
  );
}

function signerFor(scope: Scope, secretAccessKey: string): SignatureV4 {
  return new SignatureV4({
    credentials: { accessKeyId: scope.accessKeyId, secretAccessKey },
    region: scope.region,
    service: 's3',
    sha256: Hash.bind(null, 'sha256'),
    // S3 signs the path as sent, without encoding it again.
    uriEscapePath: false,
    applyChecksum: false,
  });
}

/** The request as the client signed it: only the headers it lists as signed. */
function toHttpRequest(request: IncomingSigned, signedHeaders: string[], query: [string, string][]): HttpRequest {
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    if (has(request.headers, name)) headers[name] = request.headers[name];
  }
  const queryBag: Record<string, string | string[]> = {};
  for (const [k, v] of query) {
    const existing = queryBag[k];
    queryBag[k] = existing === undefined ? v : Array.isArray(existing) ? [...existing, v] : [existing, v];
  }
  return new HttpRequest({
    method: request.method,
    protocol: 'https:',
    hostname: headers.host ?? '',
    path: request.rawPath,
    query: queryBag,
    headers,
    body: request.body && request.body.length > 0 ? request.body : undefined,
  });
}

/** Query string → ordered, decoded pairs. Unlike URLSearchParams, a `+` is kept (S3 signs it as %2B or +). */
export function parseQuery(search: string): [string, string][] {
  const text = search.startsWith('?') ? search.slice(1) : search;
  if (text === '') return [];
  return text.split('&').map((part) => {
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? '' : part.slice(eq + 1);
    return [safeDecode(name), safeDecode(value)];
  });
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
