/**
 * Which target a run uses, from the environment (documented in README.md, "Targets"):
 *   CORS_TARGET=emulator (default)  the embedded emulator, started by the Playwright set-up
 *   CORS_TARGET=r2                  a live R2 account: R2_ACCOUNT_ID, R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY,
 *                                   R2_BUCKETS, optional CLOUDFLARE_API_TOKEN, R2_S3_ENDPOINT, CLOUDFLARE_API_BASE_URL
 *   CORS_TARGET=s3                  any S3 endpoint: S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY,
 *                                   S3_BUCKETS
 * Every missing variable is named at once.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import type { AddressRule } from '../net/address-map.ts';
import { R2Target } from './r2.ts';
import { TargetError } from './target.ts';

export type TargetKind = 'emulator' | 'r2' | 's3';

export interface TargetSetup {
  target: R2Target;
  /** Buckets the run may use; empty where the harness creates its own (the emulator, R2_BUCKET_PREFIX). */
  pool: string[];
  /** R2_BUCKET_PREFIX: the run creates buckets `<prefix>-<run id>-<n>`, at most R2_MAX_BUCKETS (default 50). */
  own?: { prefix: string; max: number };
  /**
   * R2_CUSTOM_DOMAIN_BUCKETS: buckets the user attached to a custom domain; the custom-domain cases run on them,
   * as a pool of their own (harness/run/waves.ts). Empty elsewhere.
   */
  customPool: string[];
}

/** A prefix that leaves room for `-<run id>-<n>` in R2's 63 characters of lower-case letters, digits and hyphens. */
const PREFIX = /^[a-z0-9][a-z0-9-]{0,39}$/;

function ownBuckets(env: NodeJS.ProcessEnv): TargetSetup['own'] {
  const prefix = env.R2_BUCKET_PREFIX ?? '';
  if (!PREFIX.test(prefix))
    throw new TargetError(
      `R2_BUCKET_PREFIX must be 1–40 lower-case letters, digits and hyphens, starting with a letter or digit, not '${prefix}'`,
    );
  const max = Number(env.R2_MAX_BUCKETS ?? 50);
  if (!Number.isInteger(max) || max < 1) throw new TargetError('R2_MAX_BUCKETS must be a whole number ≥ 1');
  return { prefix, max };
}

export function targetKind(env: NodeJS.ProcessEnv = process.env): TargetKind {
  const kind = env.CORS_TARGET ?? 'emulator';
  if (kind !== 'emulator' && kind !== 'r2' && kind !== 's3') {
    throw new TargetError(`CORS_TARGET must be emulator, r2 or s3, not '${kind}'`);
  }
  return kind;
}

function required(env: NodeJS.ProcessEnv, names: string[]): Record<string, string> {
  const missing = names.filter((n) => !env[n]);
  if (missing.length > 0) throw new TargetError(`missing environment variable(s): ${missing.join(', ')}`);
  return Object.fromEntries(names.map((n) => [n, env[n] as string]));
}

/** The system's CAs plus an extra one (the emulator's), when NODE_EXTRA_CA_CERTS names a file. */
function trustedCas(env: NodeJS.ProcessEnv): string[] | undefined {
  const file = env.NODE_EXTRA_CA_CERTS;
  if (!file) return undefined;
  try {
    return [...rootCertificates, readFileSync(file, 'utf8')];
  } catch {
    throw new TargetError(`NODE_EXTRA_CA_CERTS names ${file}, which cannot be read`);
  }
}

function pool(value: string | undefined, variable: string): string[] {
  const buckets = (value ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (buckets.length === 0) throw new TargetError(`${variable} must list at least one bucket (comma-separated)`);
  return buckets;
}

/**
 * The buckets a run may use: a pool (R2_BUCKETS, S3_BUCKETS), or buckets of its own (R2_BUCKET_PREFIX, at most
 * R2_MAX_BUCKETS); neither on the emulator, whose buckets the harness creates. The set-up and `npm run nightly`
 * (how wide a wave may be) both read it here.
 */
export function bucketsFromEnv(env: NodeJS.ProcessEnv = process.env): Pick<TargetSetup, 'pool' | 'own' | 'customPool'> {
  const kind = targetKind(env);
  if (kind === 'emulator') return { pool: [], customPool: [] };
  if (kind === 's3') return { pool: pool(env.S3_BUCKETS, 'S3_BUCKETS'), customPool: [] };
  const customPool = env.R2_CUSTOM_DOMAIN_BUCKETS ? pool(env.R2_CUSTOM_DOMAIN_BUCKETS, 'R2_CUSTOM_DOMAIN_BUCKETS') : [];
  if (env.R2_BUCKETS) {
    const general = pool(env.R2_BUCKETS, 'R2_BUCKETS');
    const both = general.filter((b) => customPool.includes(b));
    if (both.length > 0)
      throw new TargetError(`bucket(s) ${both.join(', ')} are in both R2_BUCKETS and R2_CUSTOM_DOMAIN_BUCKETS`);
    return { pool: general, customPool };
  }
  if (env.R2_BUCKET_PREFIX !== undefined) return { pool: [], own: ownBuckets(env), customPool };
  throw new TargetError('CORS_TARGET=r2 needs R2_BUCKETS (a pool) or R2_BUCKET_PREFIX (buckets of its own)');
}

/** The suffix under which the emulator target attaches custom domains (its custom listener answers them). */
const EMULATOR_DOMAIN_SUFFIX = 'r2-cors.test';

export function targetFromEnv(env: NodeJS.ProcessEnv = process.env): TargetSetup {
  const kind = targetKind(env);
  if (kind === 's3') {
    const v = required(env, ['S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_BUCKETS']);
    const target = new R2Target({
      kind: 's3',
      s3Endpoint: v.S3_ENDPOINT,
      region: env.S3_REGION ?? 'us-east-1',
      accessKeyId: v.S3_ACCESS_KEY_ID,
      secretAccessKey: v.S3_SECRET_ACCESS_KEY,
      ca: trustedCas(env)?.join('\n'),
    });
    return { target, ...bucketsFromEnv(env) };
  }
  const names = ['R2_ACCOUNT_ID', 'R2_ACCESS_KEY_ID', 'R2_SECRET_ACCESS_KEY'];
  if (kind === 'r2' && !env.R2_BUCKETS && env.R2_BUCKET_PREFIX === undefined)
    throw new TargetError(
      `missing environment variable(s): ${[...names.filter((n) => !env[n]), 'R2_BUCKETS (or R2_BUCKET_PREFIX)'].join(', ')}`,
    );
  const buckets = bucketsFromEnv(env);
  const v = required(env, names);
  let addressRules: AddressRule[] = [];
  if (kind === 'emulator') {
    const e = required(env, ['R2_S3_ENDPOINT', 'R2_EMULATOR_PUBLIC_ADDRESS', 'R2_EMULATOR_CUSTOM_ADDRESS']);
    addressRules = [
      { host: '*.r2.dev', address: e.R2_EMULATOR_PUBLIC_ADDRESS },
      { host: `*.${EMULATOR_DOMAIN_SUFFIX}`, address: e.R2_EMULATOR_CUSTOM_ADDRESS },
      { host: `*.${v.R2_ACCOUNT_ID}.r2.cloudflarestorage.com`, address: e.R2_S3_ENDPOINT.replace('https://', '') },
      { host: `${v.R2_ACCOUNT_ID}.r2.cloudflarestorage.com`, address: e.R2_S3_ENDPOINT.replace('https://', '') },
    ];
  } else {
    // A live run pointed at an emulator started with `r2-cors emulator --env-file` (the harness's self-tests, or
    // a rehearsal of the nightly): its env file says where r2.dev hosts and custom domains are served.
    if (env.R2_EMULATOR_PUBLIC_ADDRESS)
      addressRules.push({ host: '*.r2.dev', address: env.R2_EMULATOR_PUBLIC_ADDRESS });
    if (env.R2_EMULATOR_CUSTOM_ADDRESS)
      addressRules.push({ host: `*.${EMULATOR_DOMAIN_SUFFIX}`, address: env.R2_EMULATOR_CUSTOM_ADDRESS });
  }
  const target = new R2Target({
    kind,
    accountId: v.R2_ACCOUNT_ID,
    accessKeyId: v.R2_ACCESS_KEY_ID,
    secretAccessKey: v.R2_SECRET_ACCESS_KEY,
    // The emulator is addressed by R2's own host names (mapped to its ports), as browsers must address it.
    s3Endpoint:
      kind === 'emulator' || !env.R2_S3_ENDPOINT
        ? `https://${v.R2_ACCOUNT_ID}.r2.cloudflarestorage.com`
        : env.R2_S3_ENDPOINT,
    apiToken: env.CLOUDFLARE_API_TOKEN,
    apiBase: env.CLOUDFLARE_API_BASE_URL ?? 'https://api.cloudflare.com/client/v4',
    ca: trustedCas(env)?.join('\n'),
    addressRules,
    customDomainSuffix: kind === 'emulator' ? EMULATOR_DOMAIN_SUFFIX : undefined,
  });
  return { target, ...buckets };
}
