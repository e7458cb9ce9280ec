/**
 * Applying a policy and proving it is in effect on the data plane, not only in GetBucketCors. R2 takes up to
 * 30 s to apply a change [doc], so the runner polls with backoff until requests are answered by the new policy.
 *
 * The probe works for any policy, even one that answers the case's own requests exactly as the old one did:
 * first a sentinel policy is applied, allowing one unique origin and exposing one unique header name; once a
 * probe request from that origin sees the header, the sentinel is in effect. Then the case's policy is applied,
 * and once the probe no longer sees the unique header, the sentinel is gone, so the case's policy is in force
 * (no case can expose a header whose name it cannot know).
 */
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import type { Surface } from '../cases/model.ts';
import type { CorsPolicy } from '../policy/model.ts';
import type { Target } from '../targets/target.ts';

export class NotInEffect extends Error {
  constructor(
    readonly seconds: number,
    readonly lastSeen: string,
    what: string,
  ) {
    super(`policy not in effect after ${seconds} s (${what}); last response seen: ${lastSeen}`);
  }
}

export interface ApplyOptions {
  /** Object (under the run prefix) that probes request; written by the caller. */
  probeKey: string;
  /** Surfaces to probe; the policy counts as in effect when every one answers with it. */
  surfaces: Surface[];
  /** How long to wait for each change, in milliseconds. */
  deadlineMs: number;
}

export interface Applied {
  /** From the case policy's apply to the first probe that proved it in force. */
  propagationMs: number;
  probes: number;
}

interface Sentinel {
  origin: string;
  marker: string;
  policy: CorsPolicy;
}

function sentinel(): Sentinel {
  const nonce = randomBytes(6).toString('hex');
  const origin = `https://r2-cors-probe-${nonce}.invalid`;
  const marker = `x-r2-cors-probe-${nonce}`;
  return {
    origin,
    marker,
    policy: { rules: [{ allowedOrigins: [origin], allowedMethods: ['GET', 'HEAD'], exposeHeaders: [marker] }] },
  };
}

let probeCounter = 0;

/** One probe: a GET of the probe object from the sentinel origin; a fresh query each time gets past caches. */
async function probe(
  target: Target,
  bucket: string,
  key: string,
  surface: Surface,
  s: Sentinel,
): Promise<{ marked: boolean; seen: string }> {
  probeCounter += 1;
  const base =
    surface === 's3' ? await target.presign('GET', bucket, key, 300) : await target.objectUrl(surface, bucket, key);
  const url = surface === 's3' ? base : `${base}?r2-cors-probe=${Date.now()}-${probeCounter}`;
  const response = await request(url, { method: 'GET', headers: { origin: s.origin }, dispatcher: target.dispatcher });
  await response.body.dump();
  const expose = [response.headers['access-control-expose-headers']].flat().join(',').toLowerCase();
  const allow = [response.headers['access-control-allow-origin']].flat().join(',');
  return {
    marked: expose.split(',').some((h) => h.trim() === s.marker),
    seen: `${surface} GET ${response.statusCode}, access-control-allow-origin: ${allow || '(absent)'}, access-control-expose-headers: ${expose || '(absent)'}`,
  };
}

/** Polls until every surface shows (or no longer shows) the sentinel's marker. */
async function waitFor(
  target: Target,
  bucket: string,
  s: Sentinel,
  options: ApplyOptions,
  marked: boolean,
  what: string,
) {
  const start = Date.now();
  let delay = 50;
  let probes = 0;
  const lastSeen = new Map<Surface, string>();
  const pending = new Set(options.surfaces);
  for (;;) {
    for (const surface of [...pending]) {
      probes += 1;
      const result = await probe(target, bucket, options.probeKey, surface, s);
      lastSeen.set(surface, result.seen);
      if (result.marked === marked) pending.delete(surface);
    }
    if (pending.size === 0) return { ms: Date.now() - start, probes };
    if (Date.now() - start > options.deadlineMs) {
      const seen = [...pending].map((surface) => lastSeen.get(surface)).join('; ');
      throw new NotInEffect(Math.round(options.deadlineMs / 1000), seen, what);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(2000, Math.round(delay * 1.5));
  }
}

/** Applies `policy` (null: deletes it) and waits until the data plane answers with it. */
export async function applyAndWait(
  target: Target,
  bucket: string,
  policy: CorsPolicy | null,
  options: ApplyOptions,
): Promise<Applied> {
  const s = sentinel();
  await target.putPolicy(bucket, s.policy);
  const first = await waitFor(target, bucket, s, options, true, 'the sentinel policy that precedes each change');
  if (policy) await target.putPolicy(bucket, policy);
  else await target.deletePolicy(bucket);
  const second = await waitFor(target, bucket, s, options, false, "the case's policy");
  return { propagationMs: second.ms, probes: first.probes + second.probes };
}
