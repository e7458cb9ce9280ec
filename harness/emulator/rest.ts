/**
 * The Cloudflare REST API under /client/v4, as far as R2's CORS and the harness need it: buckets, their CORS
 * policy (what `wrangler r2 bucket cors set/list/delete` calls), the r2.dev URL, custom domains and cache purge.
 * Cloudflare's envelope `{success, errors, messages, result}` and R2's error codes [seen]: 10040 malformed
 * policy, 10059 no CORS configuration, 10006 no such bucket.
 *
 * Also the emulator's own request log at GET /__emulator/requests (not a Cloudflare route).
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parsePolicyData, serializePolicy } from '../policy/formats.ts';
import { MAX_DOCUMENT_BYTES, restRejection } from '../policy/validate.ts';
import {
  BodyTooLarge,
  type ErrorFormat,
  logInternalError,
  type Reply,
  RequestAborted,
  readBody,
  send,
} from './http.ts';
import type { EdgeCache } from './public.ts';
import type { RequestLog } from './request-log.ts';
import { BUCKET_NAME, type Bucket, type Store } from './store.ts';

export interface RestSettings {
  store: Store;
  accountId: string;
  token: string;
  log: RequestLog;
  cache: EdgeCache;
}

const MAX_BODY = 1024 * 1024;

function envelope(status: number, result: unknown): Reply {
  return json(status, { success: true, errors: [], messages: [], result });
}

function failure(status: number, code: number, message: string): Reply {
  return json(status, { success: false, errors: [{ code, message }], messages: [], result: null });
}

function json(status: number, value: unknown): Reply {
  return { status, headers: [['Content-Type', 'application/json']], body: JSON.stringify(value) };
}

const noBucket = () => failure(404, 10006, 'The specified bucket does not exist.');

/** Errors the plumbing answers on the REST API (http.ts `guarded`), in Cloudflare's envelope. */
export const restErrors: ErrorFormat = (status, message) => failure(status, status === 500 ? 10001 : 7000, message);

/** A request target that is not a path (`//`, `http://[::1`, `*`): Cloudflare routes nothing there. */
class BadTarget extends Error {}

/** A path segment that is not valid percent-encoding names no bucket or domain. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BadTarget();
  }
}

export function restHandler(settings: RestSettings) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    const url = requestUrl(req.url ?? '/');
    let reply: Reply;
    try {
      if (!url) throw new BadTarget();
      const body = method === 'GET' || method === 'HEAD' ? Buffer.alloc(0) : await readBody(req, MAX_BODY);
      reply = authorized(req, settings.token)
        ? route(settings, method, url, body)
        : failure(403, 10000, 'Authentication error');
    } catch (error) {
      if (error instanceof BodyTooLarge) reply = failure(413, 10000, 'Request body too large');
      else if (error instanceof BadTarget) reply = failure(400, 7003, 'Could not route to this request target.');
      else if (error instanceof RequestAborted) reply = failure(400, 10000, 'The request body was cut short.');
      else {
        logInternalError('api', req, error);
        reply = failure(500, 10001, 'Internal error');
      }
    }
    // The log's own reads are not logged: they would fill it with themselves.
    if (!url?.pathname.startsWith('/__emulator/')) {
      settings.log.add({
        surface: 'api',
        method,
        host: req.headers.host ?? '',
        path: url?.pathname ?? '',
        status: reply.status,
      });
    }
    send(req, res, reply);
  };
}

/** The request target as a URL, when it is one this API can route (origin-form, `/…`). */
function requestUrl(target: string): URL | undefined {
  if (!target.startsWith('/') || target.startsWith('//')) return undefined;
  try {
    return new URL(target, 'https://api.invalid');
  } catch {
    return undefined;
  }
}

function authorized(req: IncomingMessage, token: string): boolean {
  const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

/** A JSON body's fields, or none when it is not a JSON object (`null`, a list, a number, broken JSON). */
function jsonFields(body: Buffer): Record<string, unknown> {
  const parsed = parseJson(body);
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) return {};
  return parsed.value as Record<string, unknown>;
}

function route(settings: RestSettings, method: string, url: URL, body: Buffer): Reply {
  const path = url.pathname.replace(/\/+$/, '');
  if (path === '/__emulator/requests' && method === 'GET') {
    return json(200, settings.log.since(Number(url.searchParams.get('since') ?? 0)));
  }
  const zone = /^\/client\/v4\/zones\/([^/]+)\/purge_cache$/.exec(path);
  if (zone && method === 'POST') return purge(settings, zone[1], body);

  const account = /^\/client\/v4\/accounts\/([^/]+)\/r2\/buckets(?:\/([^/]+)(\/.*)?)?$/.exec(path);
  if (!account) return failure(404, 7003, `Could not route to ${path}, perhaps your object identifier is invalid?`);
  if (account[1] !== settings.accountId) return failure(403, 10000, 'Authentication error');
  const name = account[2] === undefined ? undefined : decodeSegment(account[2]);
  const rest = account[3] ?? '';
  const store = settings.store;

  if (name === undefined) {
    if (method === 'GET') return envelope(200, { buckets: [...store.buckets.values()].map(bucketInfo) });
    if (method === 'POST') {
      const requested = jsonFields(body).name;
      if (typeof requested !== 'string' || !BUCKET_NAME.test(requested)) {
        return failure(400, 10005, 'The specified bucket name is not valid.');
      }
      if (store.buckets.has(requested))
        return failure(409, 10004, 'The bucket you tried to create already exists, and you own it.');
      return envelope(200, bucketInfo(store.createBucket(requested)));
    }
    return failure(405, 10000, 'Method not allowed');
  }

  const bucket = store.buckets.get(name);
  if (!bucket) return noBucket();
  if (rest === '') {
    if (method === 'GET') return envelope(200, bucketInfo(bucket));
    if (method === 'DELETE') {
      if (bucket.objects.size > 0) return failure(409, 10008, 'The bucket you tried to delete is not empty.');
      store.deleteBucket(name);
      return envelope(200, {});
    }
  }
  if (rest === '/cors') return cors(settings, method, bucket, body);
  if (rest === '/domains/managed') {
    if (method === 'GET') return envelope(200, managed(bucket));
    if (method === 'PUT') {
      const enabled = jsonFields(body).enabled;
      if (typeof enabled !== 'boolean')
        return failure(400, 10040, 'JSON not well formed: enabled must be true or false');
      store.enablePublicUrl(bucket, enabled);
      return envelope(200, managed(bucket));
    }
  }
  if (rest === '/domains/custom') {
    if (method === 'GET')
      return envelope(200, { domains: [...bucket.customDomains].map(([d, zone]) => customDomain(d, zone)) });
    if (method === 'POST') return attach(settings, bucket, body);
  }
  const domain = /^\/domains\/custom\/([^/]+)$/.exec(rest);
  if (domain && method === 'DELETE') {
    const host = decodeSegment(domain[1]);
    if (!bucket.customDomains.has(host)) return failure(404, 10043, 'The custom domain does not exist.');
    store.detachDomain(bucket, host);
    return envelope(200, { domain: host });
  }
  return failure(404, 7003, `Could not route to ${path}, perhaps your object identifier is invalid?`);
}

function bucketInfo(bucket: Bucket) {
  return {
    name: bucket.name,
    creation_date: bucket.createdAt.toISOString(),
    location: 'ENAM',
    storage_class: 'Standard',
  };
}

function managed(bucket: Bucket) {
  return { bucketId: bucket.name, domain: bucket.publicHost ?? null, enabled: bucket.publicHost !== undefined };
}

function customDomain(domain: string, zoneId: string) {
  return { domain, enabled: true, status: { ownership: 'active', ssl: 'active' }, zoneId };
}

function cors(settings: RestSettings, method: string, bucket: Bucket, body: Buffer): Reply {
  const store = settings.store;
  if (method === 'GET') {
    const policy = store.controlPolicy(bucket);
    // [seen] GET with no policy: HTTP 404, code 10059.
    if (!policy) return failure(404, 10059, 'The CORS configuration does not exist.');
    return envelope(200, JSON.parse(serializePolicy(policy, 'rules')));
  }
  if (method === 'PUT') {
    // [open] R2 publishes no size limit; the S3 API's (AWS: 64 KB, MAX_DOCUMENT_BYTES) is taken for both APIs.
    if (body.length > MAX_DOCUMENT_BYTES) {
      return failure(
        400,
        10040,
        `JSON not well formed: the policy is ${body.length} bytes; at most ${MAX_DOCUMENT_BYTES}`,
      );
    }
    const parsed = parseJson(body);
    if (!parsed.ok) return failure(400, 10040, 'JSON not well formed');
    const policy = parsePolicyData(parsed.value, 'rules');
    if (!policy.ok) {
      const rejection = restRejection(policy.problems);
      return failure(rejection.status, rejection.code, rejection.message);
    }
    store.setPolicy(bucket, policy.policy);
    return envelope(200, {});
  }
  if (method === 'DELETE') {
    store.setPolicy(bucket, null);
    return envelope(200, {});
  }
  return failure(405, 10000, 'Method not allowed');
}

function attach(settings: RestSettings, bucket: Bucket, body: Buffer): Reply {
  const value = jsonFields(body);
  if (typeof value.domain !== 'string' || !/^[a-z0-9.-]+$/.test(value.domain) || typeof value.zoneId !== 'string') {
    return failure(400, 10040, 'JSON not well formed: domain and zoneId are required');
  }
  if (settings.store.bucketByDomain(value.domain)) return failure(409, 10041, 'The custom domain is already in use.');
  settings.store.attachDomain(bucket, value.domain, value.zoneId);
  return envelope(200, customDomain(value.domain, value.zoneId));
}

function purge(settings: RestSettings, zoneId: string, body: Buffer): Reply {
  const hosts = settings.store.domainsInZone(zoneId);
  if (hosts.size === 0) return failure(404, 1001, 'Invalid zone identifier');
  const value = jsonFields(body);
  if (value.purge_everything === true) settings.cache.purge(hosts);
  else if (Array.isArray(value.files) && value.files.every((f) => typeof f === 'string')) {
    try {
      settings.cache.purge(hosts, value.files as string[]);
    } catch {
      return failure(400, 1012, 'Request must contain one of "purge_everything" or "files"');
    }
  } else return failure(400, 1012, 'Request must contain one of "purge_everything" or "files"');
  return envelope(200, { id: zoneId });
}
