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
import { parseEnvFile } from '../emulator/index.ts';
import { targetFromEnv } from '../targets/from-env.ts';

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

/** A bucket with a policy, an r2.dev URL and a 1 KiB object, made through the harness's own R2 adapter. */
async function setUp(env: Record<string, string>): Promise<string> {
  const { target } = targetFromEnv({ ...process.env, ...env, CORS_TARGET: 'emulator' });
  await target.createBucket?.('bench');
  await target.putPolicy('bench', {
    rules: [
      {
        allowedOrigins: ['https://app.example'],
        allowedMethods: ['GET', 'PUT'],
        allowedHeaders: ['content-type'],
        maxAgeSeconds: 600,
      },
    ],
  });
  await target.putObject('bench', 'object.txt', 'x'.repeat(1024), 'text/plain');
  const publicHost = new URL(await target.objectUrl('public', 'bench', 'object.txt')).hostname;
  await target.close();
  return publicHost;
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
