/**
 * A stand-in for a user's live R2 account, for the self-tests of live runs: the emulator started as a user
 * starts it (`r2-cors emulator --env-file …`, its own process), buckets seeded by their "owner" through the AWS
 * SDK with policies and objects of their own, and an exact snapshot of every bucket to compare after a run.
 * Runs reach it as a live account (CORS_TARGET=r2 with the env file's endpoints and CA).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type CORSRule,
  CreateBucketCommand,
  GetBucketCorsCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { stringify } from 'yaml';
import { parseEnvFile } from '../../harness/emulator/index.ts';
import { collectOutput } from '../child-output.ts';
import { ROOT } from '../cli/run-cli.ts';
import { tempDir } from '../temp-dir.ts';
import { suiteEnv } from './run-suite.ts';

export const BIN = fileURLToPath(new URL('../../harness/cli/r2-cors.mjs', import.meta.url));

export async function until<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  ms = 240_000,
): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** `r2-cors emulator` in its own process; resolves with its env file's values. */
export async function cliEmulator(
  delay: string,
  children: ChildProcess[],
  /** More options, e.g. `--data-dir DIR`. */
  args: string[] = [],
): Promise<Record<string, string> & { ENV_FILE: string }> {
  const dir = tempDir('r2-cors-live-');
  const envFile = path.join(dir, 'r2.env');
  const emulator = spawn(
    process.execPath,
    ['--', BIN, 'emulator', '--env-file', envFile, '--propagation-delay', delay, ...args],
    { cwd: ROOT, env: { ...process.env, R2_CORS_CA_DIR: path.join(dir, 'ca') } },
  );
  children.push(emulator);
  const output = collectOutput(emulator);
  await until('the emulator', () => (output().includes('Press Ctrl-C') ? true : undefined));
  return { ...parseEnvFile(readFileSync(envFile, 'utf8')), ENV_FILE: envFile };
}

/** The environment of a live run (CORS_TARGET=r2) against an emulator started with `cliEmulator`. */
export function liveEnvOf(emulatorEnv: Record<string, string>, settings: Record<string, string>): NodeJS.ProcessEnv {
  const { ENV_FILE: _, ...env } = emulatorEnv;
  return suiteEnv({ ...env, CORS_TARGET: 'r2', CORS_BROWSERS: 'none', ...settings });
}

/** The owner's S3 client: the AWS SDK, as a user's own code reaches R2. */
export function ownerClient(emulatorEnv: Record<string, string>): S3Client {
  return new S3Client({
    region: 'auto',
    endpoint: emulatorEnv.R2_S3_ENDPOINT,
    forcePathStyle: true,
    credentials: { accessKeyId: emulatorEnv.R2_ACCESS_KEY_ID, secretAccessKey: emulatorEnv.R2_SECRET_ACCESS_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Connections kept open between requests, as the SDK's default agent keeps them: a snapshot is 64 requests,
    // each of which would otherwise pay a TLS handshake on both sides.
    requestHandler: new NodeHttpHandler({
      httpsAgent: new HttpsAgent({ ca: readFileSync(emulatorEnv.NODE_EXTRA_CA_CERTS, 'utf8'), keepAlive: true }),
    }),
  });
}

/** Creates `count` buckets, each with a policy (or none, every fifth) and objects of its owner's. */
export async function seedOwnersBuckets(s3: S3Client, prefix: string, count: number): Promise<string[]> {
  const buckets = Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(2, '0')}`);
  await Promise.all(
    buckets.map(async (bucket, i) => {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      if (i % 5 !== 4) {
        const rules: CORSRule[] = [
          {
            ID: `owner-${i}`,
            AllowedOrigins: [`https://app${i}.owner.example`],
            AllowedMethods: ['GET', 'PUT'],
            AllowedHeaders: ['content-type'],
            ExposeHeaders: ['ETag'],
            MaxAgeSeconds: 600 + i,
          },
        ];
        if (i % 3 === 0) rules.push({ AllowedOrigins: ['*'], AllowedMethods: ['GET'] });
        await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: rules } }));
      }
      for (let k = 0; k <= i % 3; k++) {
        await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: `owner/file-${k}.txt`,
            Body: `${bucket} ${k}`,
            ContentType: 'text/plain',
          }),
        );
      }
    }),
  );
  return buckets;
}

/** Everything an owner would compare: each bucket's CORS rules and its objects (key, size, ETag). */
export async function snapshot(s3: S3Client, buckets: string[]): Promise<Record<string, unknown>> {
  const entries = await Promise.all(
    buckets.map(async (bucket) => {
      let cors: unknown = null;
      try {
        cors = (await s3.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules ?? null;
      } catch (error) {
        if ((error as { name?: string }).name !== 'NoSuchCORSConfiguration') throw error;
      }
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      const objects = (listed.Contents ?? []).map((o) => `${o.Key} ${o.Size} ${o.ETag}`).sort();
      return [bucket, { cors, objects }] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/**
 * `count` small case files for live runs: most a plain policy and two requests, every fourth a sequence that
 * changes its bucket's policy during the tests. All on the S3 endpoint, each with an object. `oneRequest`: the
 * plain ones keep only their first request (runs whose every test fails: Playwright starts a worker again after
 * each failed test, a process costing seconds of CPU).
 */
export function writeCases(count: number, { oneRequest = false } = {}): string {
  const dir = tempDir('r2-cors-cases-');
  const request = (id: string, from: string, allowed: boolean) => ({
    id,
    from,
    method: 'GET',
    surface: 's3',
    auth: 'presigned',
    key: 'a.txt',
    expect: {
      response: { status: 200, headers: { 'access-control-allow-origin': allowed ? from : { absent: true } } },
    },
  });
  const policy = (origin: string) => ({ dashboard: [{ AllowedOrigins: [origin], AllowedMethods: ['GET'] }] });
  for (let i = 1; i <= count; i++) {
    const id = `live-${String(i).padStart(2, '0')}`;
    const origin = `https://c${i}.example`;
    const head = {
      id,
      title: `Live-run self-test case ${i}`,
      source: ['https://developers.cloudflare.com/r2/buckets/cors/'],
      objects: [{ key: 'a.txt', body: `a${i}` }],
    };
    const body =
      i % 4 === 0
        ? {
            steps: [
              { apply: policy(origin) },
              { request: request('first', origin, true) },
              { apply: policy('https://other.example') },
              { request: request('after-change', origin, false) },
            ],
          }
        : {
            policy: policy(origin),
            requests: [
              request('get', origin, true),
              ...(oneRequest ? [] : [request('other-origin', 'https://nope.example', false)]),
            ],
          };
    writeFileSync(path.join(dir, `${id}.yaml`), stringify({ ...head, ...body }));
  }
  return dir;
}
