/**
 * The public entrypoints: a bucket's r2.dev URL (`pub-<32 hex>.r2.dev`) and custom domains bound to buckets.
 * GET and HEAD only, HTML error pages, `OPTIONS` without `Origin` → 400 [doc, 2024-02-20]. A custom domain
 * sits behind a cache that keeps responses with their CORS headers until purged [doc]; its key includes
 * `Origin` [doc].
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type CorsSettings, preflightReply, withCors } from './cors.ts';
import { type ErrorFormat, headerMap, hostName, htmlError, type Reply, send } from './http.ts';
import { objectReply } from './object-reply.ts';
import type { RequestLog } from './request-log.ts';
import type { Bucket } from './store.ts';

export interface PublicSettings extends CorsSettings {
  log: RequestLog;
}

/** Errors the plumbing answers on the public hosts (http.ts `guarded`), as HTML pages. */
export const publicErrors: ErrorFormat = (status, message) =>
  htmlError(status, status === 500 ? 'Internal Server Error' : 'Bad Request', message);

interface CachedReply {
  reply: Reply;
  host: string;
  path: string;
}

/** The custom domains' edge cache. Bounded: the oldest entries go first. */
export class EdgeCache {
  private entries = new Map<string, CachedReply>();

  constructor(private readonly capacity = 5_000) {}

  static key(method: string, host: string, pathAndQuery: string, origin: string | undefined) {
    return `${method} ${host}${pathAndQuery} ${origin ?? ''}`;
  }

  get(key: string): Reply | undefined {
    return this.entries.get(key)?.reply;
  }

  set(key: string, host: string, path: string, reply: Reply) {
    this.entries.delete(key);
    this.entries.set(key, { reply, host, path });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }

  /** Purge everything for these hosts, or only the given URLs (every origin's copy). */
  purge(hosts: Set<string>, urls?: string[]) {
    const targets = urls?.map((u) => {
      const url = new URL(u);
      return `${url.hostname}${url.pathname}`;
    });
    for (const [key, entry] of this.entries) {
      if (!hosts.has(entry.host)) continue;
      if (targets && !targets.includes(`${entry.host}${entry.path}`)) continue;
      this.entries.delete(key);
    }
  }
}

export function publicHandler(settings: PublicSettings, kind: 'public' | 'custom', cache?: EdgeCache) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const headers = headerMap(req);
    const method = req.method ?? 'GET';
    const host = hostName(req);
    const url = req.url ?? '/';
    const path = url.split('?')[0];
    const bucket = kind === 'public' ? settings.store.bucketByPublicHost(host) : settings.store.bucketByDomain(host);
    let cacheStatus: 'HIT' | 'MISS' | undefined;
    let reply: Reply;
    // Cloudflare's default cache key: host, path and query string; for R2 also Origin [doc].
    const cacheKey = EdgeCache.key(method, host, url, headers.origin);
    // Ranged and conditional requests are answered from the bucket, never from (nor into) the cache.
    const cacheable = (method === 'GET' || method === 'HEAD') && !/^(range|if-)/m.test(Object.keys(headers).join('\n'));
    const cached = cache && cacheable ? cache.get(cacheKey) : undefined;
    if (cached) {
      cacheStatus = 'HIT';
      reply = { ...cached, headers: [...cached.headers, ['cf-cache-status', 'HIT']] };
    } else {
      reply = answer(settings, bucket, method, path, headers);
      if (cache && bucket && cacheable) {
        cacheStatus = 'MISS';
        if (reply.status === 200) cache.set(cacheKey, host, path, reply);
        reply = { ...reply, headers: [...reply.headers, ['cf-cache-status', 'MISS']] };
      }
    }
    settings.log.add({
      surface: kind,
      method,
      host: req.headers.host ?? '',
      path,
      origin: headers.origin,
      accessControlRequestMethod: headers['access-control-request-method'],
      accessControlRequestHeaders: headers['access-control-request-headers'],
      status: reply.status,
      userAgent: headers['user-agent'],
      cache: cacheStatus,
    });
    send(req, res, reply);
  };
}

function answer(
  settings: PublicSettings,
  bucket: Bucket | undefined,
  method: string,
  path: string,
  headers: Record<string, string>,
): Reply {
  if (method === 'OPTIONS') {
    // [doc] An OPTIONS without Origin answers 400 on the public entrypoints.
    if (headers.origin === undefined)
      return htmlError(400, 'Bad Request', 'CORS preflight requests need an Origin header.');
    if (!bucket) return htmlError(404, 'Not Found', 'This host serves no bucket.');
    return preflightReply(settings, bucket, headers, 'html');
  }
  if (!bucket) return htmlError(404, 'Not Found', 'This host serves no bucket.');
  let reply: Reply;
  if (method !== 'GET' && method !== 'HEAD') {
    // [doc] GET and HEAD only; the status of other methods is [open].
    reply = htmlError(405, 'Method Not Allowed', 'Public buckets are read-only.', [['Allow', 'GET, HEAD']]);
  } else {
    let key: string;
    try {
      key = decodeURIComponent(path.slice(1));
    } catch {
      key = path.slice(1);
    }
    const object = key === '' ? undefined : bucket.objects.get(key);
    reply = object
      ? objectReply(object, { headers }, 'html', settings.profile)
      : htmlError(404, 'Not Found', 'Object not found.');
  }
  return withCors(settings, bucket, headers.origin, method, reply, 'public');
}
