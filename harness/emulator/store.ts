/**
 * The emulator's state: buckets, their objects and multipart uploads, their CORS policy as the control plane
 * and the data plane each see it, their public URL and custom domains. In memory, optionally mirrored to a
 * data directory so that a restarted emulator finds its buckets again.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CorsPolicy } from '../policy/model.ts';

export interface StoredObject {
  body: Buffer;
  contentType: string;
  etag: string;
  lastModified: Date;
  /** x-amz-meta-* headers, lower-case names without the prefix. */
  metadata: Record<string, string>;
  /** The checksum the upload stated and the emulator verified (`x-amz-checksum-<algorithm>`, base64). */
  checksum?: { algorithm: string; value: string };
}

interface PolicyVersion {
  policy: CorsPolicy | null;
  /** When the data plane starts answering with this version (epoch ms). */
  effectiveAt: number;
}

export interface MultipartUpload {
  key: string;
  initiated: Date;
  contentType: string;
  metadata: Record<string, string>;
  parts: Map<number, { body: Buffer; etag: string }>;
}

export interface Bucket {
  name: string;
  createdAt: Date;
  objects: Map<string, StoredObject>;
  uploads: Map<string, MultipartUpload>;
  /** Oldest first; the last is what the control plane reports. */
  cors: PolicyVersion[];
  /** The bucket's r2.dev host (`pub-<32 hex>.r2.dev`) when its public development URL is enabled. */
  publicHost?: string;
  /** Custom domain → the zone it is in (purges are per zone). */
  customDomains: Map<string, string>;
}

/** How long a policy change takes to reach the data plane: fixed, or random in [min, max], in milliseconds. */
export type PropagationDelay = { min: number; max: number };

/**
 * A propagation delay as people write it: `0`, `500ms`, `2s`, `1.5s`, or a range `1s..5s` (random per change).
 * Used by `r2-cors emulator --propagation-delay` and R2_EMULATOR_PROPAGATION_DELAY.
 */
export function parseDelay(text: string): PropagationDelay {
  const one = (part: string): number => {
    const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(part.trim());
    if (!m) throw new Error(`'${text}' is not a duration such as 2s, 500ms or 1s..5s`);
    return Math.round(Number(m[1]) * (m[2] === 'ms' ? 1 : 1000));
  };
  const [min, max = min] = text.split('..');
  const range = { min: one(min), max: one(max) };
  if (range.max < range.min) throw new Error(`'${text}': the range ends before it starts`);
  return range;
}

/** Bucket names as R2 accepts them: 3–63 lower-case letters, digits and hyphens, not at either end. */
export const BUCKET_NAME = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

export class Store {
  readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly propagation: PropagationDelay = { min: 0, max: 0 },
    private readonly dataDir?: string,
  ) {
    if (dataDir) this.load();
  }

  createBucket(name: string): Bucket {
    const bucket: Bucket = {
      name,
      createdAt: new Date(),
      objects: new Map(),
      uploads: new Map(),
      cors: [],
      customDomains: new Map(),
    };
    this.buckets.set(name, bucket);
    this.save();
    return bucket;
  }

  deleteBucket(name: string) {
    this.buckets.delete(name);
    if (this.dataDir) rmSync(this.objectDir(name), { recursive: true, force: true });
    this.save();
  }

  /** The policy the control plane reports (GetBucketCors, REST GET): the last one set, at once. */
  controlPolicy(bucket: Bucket): CorsPolicy | null {
    return bucket.cors.at(-1)?.policy ?? null;
  }

  /** The policy requests are answered with: the newest version whose propagation delay has passed. */
  dataPolicy(bucket: Bucket, now = Date.now()): CorsPolicy | null {
    for (let i = bucket.cors.length - 1; i >= 0; i--) {
      if (bucket.cors[i].effectiveAt <= now) return bucket.cors[i].policy;
    }
    return null;
  }

  /**
   * The policy the data plane answered with before its current one: what the `previous-policy` fault serves
   * (one change behind). Versions older than the one in force when the last change was made are gone, so in the
   * window before a change takes effect this is the one in force.
   */
  previousDataPolicy(bucket: Bucket, now = Date.now()): CorsPolicy | null {
    for (let i = bucket.cors.length - 1; i >= 0; i--) {
      if (bucket.cors[i].effectiveAt <= now) return bucket.cors[Math.max(0, i - 1)].policy;
    }
    return null;
  }

  setPolicy(bucket: Bucket, policy: CorsPolicy | null, now = Date.now()) {
    const { min, max } = this.propagation;
    const delay = min === max ? min : min + Math.random() * (max - min);
    // Keep only what can still matter: versions the data plane may serve, and the new one.
    const live = this.dataPolicy(bucket, now);
    const pending = bucket.cors.filter((v) => v.effectiveAt > now);
    bucket.cors = [{ policy: live, effectiveAt: 0 }, ...pending, { policy, effectiveAt: now + delay }];
    this.save();
  }

  putObject(bucket: Bucket, key: string, object: StoredObject) {
    bucket.objects.set(key, object);
    if (this.dataDir) {
      mkdirSync(this.objectDir(bucket.name), { recursive: true });
      writeFileSync(this.objectFile(bucket.name, key), object.body);
    }
    this.save();
  }

  deleteObject(bucket: Bucket, key: string) {
    if (!bucket.objects.delete(key)) return;
    if (this.dataDir) rmSync(this.objectFile(bucket.name, key), { force: true });
    this.save();
  }

  enablePublicUrl(bucket: Bucket, enabled: boolean): string | undefined {
    if (enabled && !bucket.publicHost) bucket.publicHost = `pub-${randomBytes(16).toString('hex')}.r2.dev`;
    if (!enabled) bucket.publicHost = undefined;
    this.save();
    return bucket.publicHost;
  }

  attachDomain(bucket: Bucket, domain: string, zoneId: string) {
    bucket.customDomains.set(domain, zoneId);
    this.save();
  }

  detachDomain(bucket: Bucket, domain: string) {
    bucket.customDomains.delete(domain);
    this.save();
  }

  bucketByPublicHost(host: string): Bucket | undefined {
    for (const bucket of this.buckets.values()) if (bucket.publicHost === host) return bucket;
    return undefined;
  }

  /** Custom domains in a zone, across buckets. */
  domainsInZone(zoneId: string): Set<string> {
    const hosts = new Set<string>();
    for (const bucket of this.buckets.values()) {
      for (const [domain, zone] of bucket.customDomains) if (zone === zoneId) hosts.add(domain);
    }
    return hosts;
  }

  bucketByDomain(host: string): Bucket | undefined {
    for (const bucket of this.buckets.values()) if (bucket.customDomains.has(host)) return bucket;
    return undefined;
  }

  // --- persistence: state.json for everything but object bodies, one file per object ----------------------

  private objectDir(bucket: string) {
    return path.join(this.dataDir as string, 'objects', bucket);
  }

  private objectFile(bucket: string, key: string) {
    return path.join(this.objectDir(bucket), createHash('sha256').update(key).digest('hex'));
  }

  private save() {
    if (!this.dataDir) return;
    const state = [...this.buckets.values()].map((b) => ({
      name: b.name,
      createdAt: b.createdAt.toISOString(),
      // What the data plane will serve once every pending change has landed.
      cors: this.controlPolicy(b),
      publicHost: b.publicHost,
      customDomains: Object.fromEntries(b.customDomains),
      objects: [...b.objects].map(([key, o]) => ({
        key,
        contentType: o.contentType,
        etag: o.etag,
        lastModified: o.lastModified.toISOString(),
        metadata: o.metadata,
        checksum: o.checksum,
      })),
    }));
    mkdirSync(this.dataDir, { recursive: true });
    const file = path.join(this.dataDir, 'state.json');
    writeFileSync(`${file}.tmp`, JSON.stringify(state));
    renameSync(`${file}.tmp`, file);
  }

  private load() {
    let text: string;
    try {
      text = readFileSync(path.join(this.dataDir as string, 'state.json'), 'utf8');
    } catch {
      return;
    }
    for (const b of JSON.parse(text)) {
      const bucket: Bucket = {
        name: b.name,
        createdAt: new Date(b.createdAt),
        objects: new Map(),
        uploads: new Map(),
        cors: b.cors ? [{ policy: b.cors, effectiveAt: 0 }] : [],
        publicHost: b.publicHost,
        customDomains: new Map(Object.entries(b.customDomains ?? {})),
      };
      for (const o of b.objects) {
        bucket.objects.set(o.key, {
          body: readFileSync(this.objectFile(b.name, o.key)),
          contentType: o.contentType,
          etag: o.etag,
          lastModified: new Date(o.lastModified),
          metadata: o.metadata,
          checksum: o.checksum,
        });
      }
      this.buckets.set(bucket.name, bucket);
    }
  }
}

/** The ETag S3 and R2 give a single-part object: the quoted MD5 of its bytes. */
export function etagOf(body: Buffer): string {
  return `"${createHash('md5').update(body).digest('hex')}"`;
}
