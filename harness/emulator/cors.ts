/**
 * Where the emulator's surfaces apply a bucket's CORS policy: preflights and the headers of actual responses,
 * decided by the evaluator (harness/cors/evaluate.ts) on the policy the data plane sees now.
 */
import { evaluateActual, evaluatePreflight } from '../cors/evaluate.ts';
import type { CorsProfile } from '../cors/profile.ts';
import type { CorsPolicy } from '../policy/model.ts';
import type { Fault } from './faults.ts';
import { type HeaderList, htmlError, type Reply, s3Error } from './http.ts';
import type { Bucket, Store } from './store.ts';

export { FAULTS, type Fault } from './faults.ts';

/** What the `other-profile` fault changes. */
export const OTHER_PROFILE: Partial<CorsProfile> = {
  wildcardAllowOrigin: 'echo',
  listSeparator: ',',
  maxAgeOnActual: false,
  // An UploadPart with a SHA-256 checksum accepted (SHA-1 still 501).
  partChecksumsNotImplemented: ['sha1'],
};

export interface CorsSettings {
  store: Store;
  profile: CorsProfile;
  fault?: Fault;
}

/** The profile the emulator answers by: its own, or changed by the `other-profile` fault. */
export function profileOf(settings: CorsSettings): CorsProfile {
  return settings.fault === 'other-profile' ? { ...settings.profile, ...OTHER_PROFILE } : settings.profile;
}

function policyFor(settings: CorsSettings, bucket: Bucket): CorsPolicy | null {
  const policy =
    settings.fault === 'previous-policy'
      ? settings.store.previousDataPolicy(bucket)
      : settings.store.dataPolicy(bucket);
  if (!policy || settings.fault !== 'ignore-allowed-headers') return policy;
  return { rules: policy.rules.map((rule) => ({ ...rule, allowedHeaders: ['*'] })) };
}

function faulty(settings: CorsSettings, headers: HeaderList): HeaderList {
  if (settings.fault === 'allow-headers-star') {
    return headers.map(([name, value]) => [name, name === 'Access-Control-Allow-Headers' ? '*' : value]);
  }
  if (settings.fault !== 'star-for-named-origin') return headers;
  return headers
    .filter(([name]) => name !== 'Access-Control-Allow-Credentials')
    .map(([name, value]) => [name, name === 'Access-Control-Allow-Origin' ? '*' : value]);
}

/** Answer to `OPTIONS` with the request's headers; errors as XML (S3 API) or HTML (public entrypoints). */
export function preflightReply(
  settings: CorsSettings,
  bucket: Bucket,
  headers: Record<string, string>,
  style: 'xml' | 'html',
): Reply {
  const evaluation = evaluatePreflight(
    policyFor(settings, bucket),
    {
      origin: headers.origin,
      requestMethod: headers['access-control-request-method'],
      requestHeaders: headers['access-control-request-headers'],
    },
    profileOf(settings),
  );
  if (evaluation.rejection) {
    const { status, code, message } = evaluation.rejection;
    return style === 'xml' ? s3Error(status, code, message) : htmlError(status, code, message);
  }
  return { status: evaluation.status ?? 200, headers: faulty(settings, evaluation.headers) };
}

/** CORS headers for an actual response (none without Origin, without policy, or without a matching rule). */
export function actualCorsHeaders(
  settings: CorsSettings,
  bucket: Bucket,
  origin: string | undefined,
  method: string,
): HeaderList {
  const headers = evaluateActual(policyFor(settings, bucket), { origin, method }, profileOf(settings)).headers;
  if (settings.fault === 'set-cookie' && origin !== undefined)
    return [...headers, ['Set-Cookie', 'r2-cors-fault=1; Path=/; Secure; SameSite=None']];
  return faulty(settings, headers);
}

/**
 * Adds CORS headers to a reply, unless it is an error (or a 304) and the profile says those carry none on this
 * surface (`public` stands for r2.dev and custom domains alike).
 */
export function withCors(
  settings: CorsSettings,
  bucket: Bucket | undefined,
  origin: string | undefined,
  method: string,
  reply: Reply,
  surface: 's3' | 'public',
): Reply {
  if (!bucket) return reply;
  if (reply.status >= 400 && !profileOf(settings).corsOnErrors[surface]) return reply;
  if (reply.status === 304 && !profileOf(settings).corsOnNotModified) return reply;
  return { ...reply, headers: [...reply.headers, ...actualCorsHeaders(settings, bucket, origin, method)] };
}
