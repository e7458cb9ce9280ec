/**
 * An emulator for one test file, and clients pointed at it the way users point theirs: the AWS SDK at the S3
 * endpoint, fetch-less undici requests at R2 host names mapped to the emulator's ports, the REST API with its
 * bearer token. The CA lives in a temporary folder, so tests never touch the user's.
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { connect } from 'node:tls';
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { AwsV4Signer } from 'aws4fetch';
import { request } from 'undici';
import { type EmulatorOptions, type RunningEmulator, startEmulator } from '../../harness/emulator/index.ts';
import { addressMapAgent } from '../../harness/net/address-map.ts';
import { tempDir } from '../temp-dir.ts';

// The SDK warns on every run that its releases after January 2027 need Node 22; the pinned version works on 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export interface EmulatorFixture {
  emulator: RunningEmulator;
  ca: string;
  s3: S3Client;
  /** Raw HTTP with R2's host names mapped to the emulator. */
  http(url: string, options?: RawOptions): Promise<RawResponse>;
  /** A request signed with aws4fetch (header form, as the harness signs), sent through undici. */
  signed(method: string, pathAndQuery: string, body?: string, headers?: Record<string, string>): Promise<RawResponse>;
  /** The Cloudflare REST API, with the token. */
  rest(method: string, apiPath: string, body?: unknown): Promise<{ status: number; json: RestEnvelope }>;
  close(): Promise<void>;
}

export interface RawOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface RestEnvelope {
  success: boolean;
  errors: { code: number; message: string }[];
  result: unknown;
}

export async function emulatorFixture(options: EmulatorOptions = {}): Promise<EmulatorFixture> {
  const caDir = tempDir('r2-cors-test-ca-');
  const emulator = await startEmulator({ caDir, ...options });
  const ca = readFileSync(emulator.caFile, 'utf8');
  const address = (url: string) => url.replace('https://', '');
  const agent = addressMapAgent({
    ca,
    rules: [
      { host: `*.${emulator.accountId}.r2.cloudflarestorage.com`, address: address(emulator.endpoints.s3) },
      { host: `${emulator.accountId}.r2.cloudflarestorage.com`, address: address(emulator.endpoints.s3) },
      { host: '*.r2.dev', address: address(emulator.endpoints.public) },
      { host: '*.test', address: address(emulator.endpoints.custom) },
    ],
  });
  const s3 = new S3Client({
    region: 'auto',
    endpoint: emulator.endpoints.s3,
    forcePathStyle: true,
    credentials: { accessKeyId: emulator.accessKeyId, secretAccessKey: emulator.secretAccessKey },
    // Cloudflare's advice for AWS SDK v3 ≥ 3.729 (shared/reference/r2-cors.md §5).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: new NodeHttpHandler({ httpsAgent: new HttpsAgent({ ca }) }),
  });
  const http = async (url: string, o: RawOptions = {}): Promise<RawResponse> => {
    const response = await request(url, {
      method: (o.method ?? 'GET') as 'GET',
      headers: o.headers,
      body: o.body,
      dispatcher: agent,
    });
    return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
  };
  const rest = async (method: string, apiPath: string, body?: unknown) => {
    const response = await http(`${emulator.env.CLOUDFLARE_API_BASE_URL}${apiPath}`, {
      method,
      headers: { authorization: `Bearer ${emulator.apiToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: JSON.parse(response.body) as RestEnvelope };
  };
  const signed = async (method: string, pathAndQuery: string, body?: string, headers: Record<string, string> = {}) => {
    const signer = new AwsV4Signer({
      url: `${emulator.endpoints.s3}${pathAndQuery}`,
      method,
      headers,
      body,
      accessKeyId: emulator.accessKeyId,
      secretAccessKey: emulator.secretAccessKey,
      service: 's3',
      region: 'auto',
    });
    const request = await signer.sign();
    return http(request.url.toString(), { method, headers: Object.fromEntries(request.headers), body });
  };
  return {
    emulator,
    ca,
    s3,
    http,
    signed,
    rest,
    close: async () => {
      s3.destroy();
      await agent.close();
      await emulator.close();
    },
  };
}

/**
 * Raw bytes over TLS to an endpoint, for requests no HTTP client would send; resolves with whatever comes back
 * before the server closes the connection or `waitMs` pass.
 */
export function rawExchange(ca: string, endpoint: string, bytes: string, waitMs = 2000): Promise<string> {
  const { hostname, port } = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ca }, () => socket.write(bytes));
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk;
    });
    socket.on('close', () => resolve(data));
    socket.on('error', (error: NodeJS.ErrnoException) => (data ? resolve(data) : reject(error)));
    setTimeout(() => {
      socket.destroy();
      resolve(data);
    }, waitMs).unref();
  });
}
