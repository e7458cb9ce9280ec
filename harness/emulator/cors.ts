/**
 * Where the emulator's surfaces apply a bucket's CORS policy: preflights and the headers of actual responses,
 * decided by the evaluator (harness/cors/evaluate.ts) on the policy the data plane sees now.
 */
import { evaluateActual, evaluatePreflight } from '../cors/evaluate.ts';
import type { CorsProfile } from '../cors/profile.ts';
import { type HeaderList, htmlError, type Reply, s3Error } from './http.ts';
import type { Bucket, Store } from './store.ts';

export interface CorsSettings {
  store: Store;
  profile: CorsProfile;
}

/** Answer to `OPTIONS` with the request's headers; errors as XML (S3 API) or HTML (public entrypoints). */
export function preflightReply(
  settings: CorsSettings,
  bucket: Bucket,
  headers: Record<string, string>,
  style: 'xml' | 'html',
): Reply {
  const evaluation = evaluatePreflight(
    settings.store.dataPolicy(bucket),
    {
      origin: headers.origin,
      requestMethod: headers['access-control-request-method'],
      requestHeaders: headers['access-control-request-headers'],
    },
    settings.profile,
  );
  if (evaluation.rejection) {
    const { status, code, message } = evaluation.rejection;
    return style === 'xml' ? s3Error(status, code, message) : htmlError(status, code, message);
  }
  return { status: evaluation.status ?? 200, headers: evaluation.headers };
}

/** CORS headers for an actual response (none without Origin, without policy, or without a matching rule). */
export function actualCorsHeaders(
  settings: CorsSettings,
  bucket: Bucket,
  origin: string | undefined,
  method: string,
): HeaderList {
  return evaluateActual(settings.store.dataPolicy(bucket), { origin, method }, settings.profile).headers;
}

/** Adds CORS headers to a reply, unless it is an error and the profile says errors carry none. */
export function withCors(
  settings: CorsSettings,
  bucket: Bucket | undefined,
  origin: string | undefined,
  method: string,
  reply: Reply,
): Reply {
  if (!bucket) return reply;
  if (reply.status >= 400 && !settings.profile.corsOnErrors) return reply;
  return { ...reply, headers: [...reply.headers, ...actualCorsHeaders(settings, bucket, origin, method)] };
}
