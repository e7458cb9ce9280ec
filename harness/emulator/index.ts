/**
 * The embedded R2 emulator: four HTTPS listeners on loopback, one per R2 surface, sharing one store.
 *   s3      the S3 API (`<account>.r2.cloudflarestorage.com`)
 *   api     the Cloudflare REST API (`api.cloudflare.com/client/v4`) and the emulator's request log
 *   public  r2.dev URLs (`pub-<32 hex>.r2.dev`), chosen by Host
 *   custom  custom domains, chosen by Host, behind an edge cache
 * Only the CLI and the test set-up start it; the harness reaches it over the wire, like R2.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { type CorsProfile, R2_PROFILE } from '../cors/profile.ts';
import { loadOrCreateCa, serverTlsOptions } from '../tls/local-ca.ts';
import type { Fault } from './cors.ts';
import { type ErrorFormat, guarded, type Handler } from './http.ts';
import { EdgeCache, publicErrors, publicHandler } from './public.ts';
import { RequestLog } from './request-log.ts';
import { restErrors, restHandler } from './rest.ts';
import { s3Errors, s3Handler } from './s3.ts';
import { type PropagationDelay, Store } from './store.ts';

export interface EmulatorOptions {
  /** First of four consecutive ports (S3, API, public, custom); 0 or absent: any free ports. */
  port?: number;
  /** How long a policy change takes to reach the data plane. Default none. */
  propagation?: PropagationDelay;
  /** Keep buckets, objects and credentials here across restarts; in memory when absent. */
  dataDir?: string;
  /** Where the local CA lives (default: harness/tls/local-ca.ts). */
  caDir?: string;
  /** The R2 behaviour for [open] points; the emulator's self-tests change it on purpose. */
  profile?: CorsProfile;
  /** Largest object or part accepted. Default 64 MiB. */
  maxObjectBytes?: number;
  /** A deliberate misbehaviour, for the harness's self-tests (see cors.ts). */
  fault?: Fault;
  /** How long a client may take to send a request's headers before it is answered 408. Default 10 s. */
  headersTimeoutMs?: number;
}

export interface Credentials {
  accountId: string;
  accessKeyId: string;
  secretAccessKey: string;
  apiToken: string;
}

export interface RunningEmulator extends Credentials {
  caFile: string;
  endpoints: { s3: string; api: string; public: string; custom: string };
  /** The variables other tools need to use the emulator (see envFile). */
  env: Record<string, string>;
  close(): Promise<void>;
}

function newCredentials(): Credentials {
  return {
    accountId: randomBytes(16).toString('hex'),
    accessKeyId: randomBytes(16).toString('hex'),
    secretAccessKey: randomBytes(32).toString('hex'),
    apiToken: randomBytes(20).toString('base64url'),
  };
}

/** Credentials survive restarts with a data directory, so tools configured once keep working. */
function credentialsFor(dataDir: string | undefined): Credentials {
  if (!dataDir) return newCredentials();
  const file = path.join(dataDir, 'credentials.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Credentials;
  } catch {
    const made = newCredentials();
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(made, null, 2), { mode: 0o600 });
    return made;
  }
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const credentials = credentialsFor(options.dataDir);
  const ca = await loadOrCreateCa(options.caDir);
  const tls = await serverTlsOptions(ca);
  const never = { min: Number.POSITIVE_INFINITY, max: Number.POSITIVE_INFINITY };
  const store = new Store(
    options.fault === 'never-propagate' ? never : (options.propagation ?? { min: 0, max: 0 }),
    options.dataDir,
  );
  const log = new RequestLog();
  const cache = new EdgeCache();
  const profile = options.profile ?? R2_PROFILE;
  const common = { store, profile, log, fault: options.fault };

  const handlers: [string, Handler, ErrorFormat][] = [
    [
      's3',
      s3Handler({
        ...common,
        accountId: credentials.accountId,
        credentials: new Map([[credentials.accessKeyId, credentials.secretAccessKey]]),
        maxObjectBytes: options.maxObjectBytes ?? 64 * 1024 * 1024,
      }),
      s3Errors,
    ],
    [
      'api',
      restHandler({ store, log, cache, accountId: credentials.accountId, token: credentials.apiToken }),
      restErrors,
    ],
    ['public', publicHandler(common, 'public'), publicErrors],
    ['custom', publicHandler(common, 'custom', cache), publicErrors],
  ];
  const headersTimeout = options.headersTimeoutMs ?? 10_000;
  const timeouts = {
    headersTimeout,
    requestTimeout: Math.max(30_000, headersTimeout),
    // An idle connection is kept a minute: a client reusing it as the server closes it gets ECONNRESET, and
    // with Node's 5 s that race hit the suite's workers on a loaded machine.
    keepAliveTimeout: 60_000,
    // Node checks both timeouts only this often (default every 30 s, which made a 10 s timeout 27–40 s).
    connectionsCheckingInterval: Math.max(100, Math.min(1_000, headersTimeout / 4)),
  };
  const servers: Server[] = [];
  try {
    for (const [i, [surface, handler, errors]] of handlers.entries()) {
      const server = createServer({ ...tls, ...timeouts }, guarded(surface, handler, errors));
      server.maxConnections = 1_000;
      server.on('clientError', answerClientError);
      // No listener for CONNECT would close the connection unanswered; R2's endpoints proxy nothing.
      server.on('connect', (_req, socket: Duplex) =>
        socket.end('HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'),
      );
      servers.push(server);
      await listen(server, options.port ? options.port + i : 0);
    }
  } catch (error) {
    await Promise.all(servers.map(closeServer));
    throw error;
  }
  const url = (server: Server) => `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const endpoints = { s3: url(servers[0]), api: url(servers[1]), public: url(servers[2]), custom: url(servers[3]) };
  const env = {
    R2_ACCOUNT_ID: credentials.accountId,
    R2_ACCESS_KEY_ID: credentials.accessKeyId,
    R2_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    R2_S3_ENDPOINT: endpoints.s3,
    CLOUDFLARE_API_BASE_URL: `${endpoints.api}/client/v4`,
    CLOUDFLARE_API_TOKEN: credentials.apiToken,
    CLOUDFLARE_ACCOUNT_ID: credentials.accountId,
    NODE_EXTRA_CA_CERTS: ca.certFile,
    R2_EMULATOR_PUBLIC_ADDRESS: endpoints.public.replace('https://', ''),
    R2_EMULATOR_CUSTOM_ADDRESS: endpoints.custom.replace('https://', ''),
    R2_EMULATOR_LOG_URL: `${endpoints.api}/__emulator/requests`,
  };
  return {
    ...credentials,
    caFile: ca.certFile,
    endpoints,
    env,
    close: async () => {
      await Promise.all(servers.map(closeServer));
    },
  };
}

/**
 * Malformed requests, oversized headers, too slow clients, half-closed connections: an answer when possible,
 * never a crash.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex) {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? '431 Request Header Fields Too Large'
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? '408 Request Timeout'
        : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // Loopback only: nothing outside this machine reaches the emulator.
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Reads an env file written by `envFileText` (`r2-cors emulator --env-file`). */
export function parseEnvFile(text: string): Record<string, string> {
  const entries = text
    .split('\n')
    .filter((line) => line.includes('='))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]);
  return Object.fromEntries(entries);
}

/** `KEY=value` lines, for `source` in a shell or a dotenv loader. */
export function envFileText(env: Record<string, string>): string {
  return `${Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;
}
