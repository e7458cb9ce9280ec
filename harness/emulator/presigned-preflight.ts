/**
 * A preflight to a presigned URL on the S3 API. R2 checks the URL's query signature on the OPTIONS request too,
 * with the method of Access-Control-Request-Method in place of OPTIONS [seen: cloudflare-docs#6003, Cloudflare
 * staff, 2022-10], so an expired or tampered presigned URL fails already at the preflight.
 *
 * A preflight carries none of the request's own headers, so a URL that signs headers besides `host` cannot have
 * its signature recomputed there: its expiry, credential and form are still checked, the signature is not
 * (profile: presignedPreflight).
 */
import type { CorsProfile } from '../cors/profile.ts';
import { type Reply, s3Error } from './http.ts';
import { verifySigV4 } from './sigv4.ts';

export interface PresignedPreflight {
  rawPath: string;
  query: [string, string][];
  /** Lower-case header names of the OPTIONS request. */
  headers: Record<string, string>;
}

const PRESIGNED = new Set(['x-amz-signature', 'x-amz-credential']);

/** Whether a query string makes the URL a presigned one. */
export function isPresigned(query: [string, string][]): boolean {
  return query.some(([name]) => PRESIGNED.has(name.toLowerCase()));
}

/**
 * Undefined when the preflight may go on to the bucket's CORS policy; else the S3 error it gets. Only presigned
 * URLs are checked (a preflight to any other URL carries no credentials to check).
 */
export async function checkPresignedPreflight(
  preflight: PresignedPreflight,
  secretFor: (accessKeyId: string) => string | undefined,
  profile: CorsProfile,
): Promise<Reply | undefined> {
  if (profile.presignedPreflight === 'not-checked' || !isPresigned(preflight.query)) return undefined;
  const method = preflight.headers['access-control-request-method'];
  if (!method) return undefined; // a preflight without a method is refused by the CORS evaluation itself
  const signedHeaders = (
    preflight.query.find(([name]) => name.toLowerCase() === 'x-amz-signedheaders')?.[1] ?? ''
  ).split(';');
  // The request as its URL was signed: the requested method, the host, and no body.
  const outcome = await verifySigV4(
    {
      method,
      rawPath: preflight.rawPath,
      query: preflight.query,
      headers: { host: preflight.headers.host ?? '' },
      body: Buffer.alloc(0),
    },
    secretFor,
  );
  if (outcome.kind !== 'refused') return undefined;
  const { status, code, message } = outcome.failure;
  const uncheckable = signedHeaders.some((name) => name !== '' && name !== 'host');
  if (code === 'SignatureDoesNotMatch' && uncheckable) return undefined;
  return s3Error(status, code, message);
}
