/**
 * `npm run bench:emulator`: preflight and GET throughput of the emulator on loopback, measured with
 * autocannon against `r2-cors emulator` running as its own process. Prints requests/s and p99 latency; it is a
 * record, not a test: no threshold, because shared machines are noisy.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { AwsV4Signer } from 'aws4fetch';
import { Agent, request } from 'undici';
import { parseEnvFile } from '../emulator/index.ts';

const DURATION_S = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = 10;
const BIN = fileURLToPath(new URL('../cli/r2-cors.mjs', import.meta.url));

async function startEmulator(): Promise<{ child: ChildProcess; env: Record<string, string> }> {
  const envFile = path.join(mkdtempSync(path.join(tmpdir(), 'r2-bench-')), 'r2.env');
  const child = spawn(process.execPath, ['--', BIN, 'emulator', '--env-file', envFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('Press Ctrl-C')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
  });
  const env = parseEnvFile(readFileSync(envFile, 'utf8'));
  return { child, env };
}

async function setUp(env: Record<string, string>): Promise<string> {
  const dispatcher = new Agent({ connect: { ca: readFileSync(env.NODE_EXTRA_CA_CERTS, 'utf8') } });
  const api = `${env.CLOUDFLARE_API_BASE_URL}/accounts/${env.R2_ACCOUNT_ID}/r2/buckets`;
  const call = async (method: string, url: string, body?: unknown) => {
    const r = await request(url, {
      method: method as 'PUT',
      headers: { authorization: `Bearer ${env.CLOUDFLARE_API_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      dispatcher,
    });
    return r.body.json() as Promise<{ result: { domain: string } }>;
  };
  await call('POST', api, { name: 'bench' });
  await call('PUT', `${api}/bench/cors`, {
    rules: [
      {
        allowed: { origins: ['https://app.example'], methods: ['GET', 'PUT'], headers: ['content-type'] },
        maxAgeSeconds: 600,
      },
    ],
  });
  const managed = await call('PUT', `${api}/bench/domains/managed`, { enabled: true });
  const signed = await new AwsV4Signer({
    url: `${env.R2_S3_ENDPOINT}/bench/object.txt`,
    method: 'PUT',
    body: 'x'.repeat(1024),
    accessKeyId: env.R2_ACCESS_KEY_ID,
    secretAccessKey: env.R2_SECRET_ACCESS_KEY,
    service: 's3',
    region: 'auto',
  }).sign();
  const put = await request(signed.url, {
    method: 'PUT',
    headers: Object.fromEntries(signed.headers),
    body: 'x'.repeat(1024),
    dispatcher,
  });
  await put.body.text();
  await dispatcher.close();
  return managed.result.domain;
}

async function measure(title: string, options: autocannon.Options) {
  const result = await autocannon({ duration: DURATION_S, connections: CONNECTIONS, ...options });
  const ok = result.non2xx === 0 && result.errors === 0;
  console.log(
    `${title.padEnd(34)} ${result.requests.average.toFixed(0).padStart(7)} req/s   p99 ${String(result.latency.p99).padStart(4)} ms` +
      `${ok ? '' : `   (${result.non2xx} non-2xx, ${result.errors} errors)`}`,
  );
}

const { child, env } = await startEmulator();
try {
  const publicHost = await setUp(env);
  const ca = readFileSync(env.NODE_EXTRA_CA_CERTS, 'utf8');
  const publicUrl = `https://${env.R2_EMULATOR_PUBLIC_ADDRESS}/object.txt`;
  console.log(`emulator on loopback, ${CONNECTIONS} connections, ${DURATION_S} s each\n`);
  await measure('preflight, S3 API (matched)', {
    url: `${env.R2_S3_ENDPOINT}/bench/object.txt`,
    method: 'OPTIONS',
    headers: {
      origin: 'https://app.example',
      'access-control-request-method': 'PUT',
      'access-control-request-headers': 'content-type',
    },
    tlsOptions: { ca },
  });
  await measure('preflight, r2.dev (matched)', {
    url: publicUrl,
    method: 'OPTIONS',
    headers: { host: publicHost, origin: 'https://app.example', 'access-control-request-method': 'GET' },
    servername: publicHost,
    tlsOptions: { ca },
  });
  await measure('GET 1 KiB, r2.dev, with Origin', {
    url: publicUrl,
    headers: { host: publicHost, origin: 'https://app.example' },
    servername: publicHost,
    tlsOptions: { ca },
  });
} finally {
  child.kill('SIGTERM');
}
