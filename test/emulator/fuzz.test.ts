/**
 * A bounded fuzz self-test of the emulator (issue 12): malformed requests of the kinds a hostile or careless
 * client sends, to all four listeners, over loopback, from a seeded PRNG (FUZZ_SEED=<n> replays a run). It
 * asserts no exit, no 5xx (501 NotImplemented excepted: S3's and R2's honest answer to an operation they lack),
 * no internal-error log line, and that normal requests are still answered. Bounded by a request count and a
 * time budget (FUZZ_SECONDS, default 20).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connect } from 'node:tls';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { AwsV4Signer } from 'aws4fetch';
import { type EmulatorFixture, emulatorFixture } from './fixture.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 20261129);
const BUDGET_MS = Number(process.env.FUZZ_SECONDS ?? 20) * 1000;
const MAX_REQUESTS = 4000;
const PARALLEL = 8;

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  const chance = (p: number) => next() < p;
  const bytes = (n: number) => Array.from({ length: n }, () => String.fromCharCode(int(256))).join('');
  return { int, pick, chance, bytes };
}
type Rng = ReturnType<typeof prng>;

let f: EmulatorFixture;
/** The fuzzed bucket's hosts, and those of a bucket the fuzz never signs for, whose answers must not change. */
let publicHost: string;
let steadyHost: string;
const DOMAIN = 'fuzz.test';
const STEADY_DOMAIN = 'steady.test';
before(async () => {
  f = await emulatorFixture({ maxObjectBytes: 64 * 1024, headersTimeoutMs: 2_000 });
  const hosts: string[] = [];
  for (const [bucket, domain] of [
    ['fuzz', DOMAIN],
    ['steady', STEADY_DOMAIN],
  ]) {
    await f.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await f.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a.txt', Body: 'a' }));
    const api = `/accounts/${f.emulator.accountId}/r2/buckets/${bucket}`;
    const managed = await f.rest('PUT', `${api}/domains/managed`, { enabled: true });
    hosts.push((managed.json.result as { domain: string }).domain);
    await f.rest('POST', `${api}/domains/custom`, { domain, zoneId: `zone-${bucket}` });
    await f.rest('PUT', `${api}/cors`, {
      rules: [
        {
          allowed: { origins: ['https://a.example'], methods: ['GET', 'PUT'], headers: ['*'] },
          exposeHeaders: ['ETag'],
        },
      ],
    });
  }
  [publicHost, steadyHost] = hosts;
});
after(() => f.close());

// --- the pieces malformed requests are made of ---------------------------------------------------------------

const METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'M-SEARCH', 'get'];
const TARGETS = [
  '//',
  'http://[::1',
  '*',
  '/%',
  '/%E0%A4%A',
  '/..%2f..%2f',
  '/?',
  '/?&&==&',
  '/#frag',
  '/a b',
  '/\u00e9',
];
const SEGMENTS = [
  'fuzz',
  'a.txt',
  '%',
  '%zz',
  '%E0%A4%A',
  '..',
  '.',
  '',
  'constructor',
  '__proto__',
  '%00',
  'x'.repeat(1100),
];
const QUERIES = [
  'cors',
  'uploads',
  'uploadId=x&partNumber=0',
  'list-type=2&max-keys=-1',
  'delete',
  'acl',
  'x-id=%',
  'X-Amz-Signature=00',
];
const HEADER_VALUES = ['', ' ', 'null', '*', 'constructor', '__proto__', '\u00ff\u00fe', 'a,b,,c', 'x'.repeat(2000)];
const ORIGINS = ['https://a.example', 'null', 'https://a.example:99999', 'file://', '*', 'https://\u00e9.example'];
const XML = [
  '<CORSConfiguration><constructor/></CORSConfiguration>',
  '<CORSConfiguration><__proto__><a/></__proto__></CORSConfiguration>',
  '<!DOCTYPE c [<!ENTITY e SYSTEM "file:///etc/passwd">]><CORSConfiguration>&e;</CORSConfiguration>',
  '<!DOCTYPE c [<!ENTITY % e "x">]><CORSConfiguration/>',
  '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><ExposeHeader>x-&#x20AC;</ExposeHeader></CORSRule></CORSConfiguration>',
  '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>a&#13;&#10;b</AllowedHeader></CORSRule></CORSConfiguration>',
  '<Delete><Object><Key><constructor/></Key></Object></Delete>',
  '<CompleteMultipartUpload><Part><PartNumber>x</PartNumber></Part></CompleteMultipartUpload>',
  '<a>'.repeat(500),
  '<?xml version="1.0"?><CORSConfiguration><CORSRule/></CORSConfiguration>',
];
const JSON_BODIES = [
  'null',
  '[]',
  '{}',
  '1',
  '"x"',
  '{"rules":null}',
  '{"rules":[null]}',
  '{"rules":[{"allowed":{"origins":["*"],"methods":["GET"]},"exposeHeaders":["x-\u20ac"]}]}',
  '{"rules":[{"allowed":{"origins":["*"],"methods":["GET"],"headers":["a\\r\\nb"]}}]}',
  '{"name":null}',
  '{"enabled":"yes"}',
  '{"domain":{"__proto__":1},"zoneId":[]}',
  '{"files":[null,1,"http://[::1"]}',
  '{"purge_everything":"true"}',
  '{"__proto__":{"polluted":1}}',
  '{',
  '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[',
];

interface Listener {
  name: 's3' | 'api' | 'public' | 'custom';
  host: () => string;
}
const LISTENERS: Listener[] = [
  { name: 's3', host: () => new URL(f.emulator.endpoints.s3).host },
  { name: 'api', host: () => new URL(f.emulator.endpoints.api).host },
  { name: 'public', host: () => publicHost },
  { name: 'custom', host: () => DOMAIN },
];

function target(rng: Rng, listener: Listener): string {
  if (rng.chance(0.15)) return rng.pick(TARGETS);
  const segments = Array.from({ length: 1 + rng.int(3) }, () => rng.pick(SEGMENTS));
  const prefix =
    listener.name === 'api'
      ? rng.pick([
          `/client/v4/accounts/${f.emulator.accountId}/r2/buckets/`,
          `/client/v4/accounts/${f.emulator.accountId}/r2/buckets/fuzz/domains/custom/`,
          '/client/v4/zones/zone-fuzz/purge_cache/',
          '/client/v4/zones/',
          '/__emulator/requests?since=',
        ])
      : '/';
  let path = `${prefix}${segments.join('/')}`;
  if (listener.name === 'api' && rng.chance(0.5))
    path = path.replace(/\/[^/]*$/, rng.pick(['/cors', '/domains/managed', '/domains/custom', '']));
  if (rng.chance(0.4)) path += `?${rng.pick(QUERIES)}`;
  if (rng.chance(0.05)) path += rng.bytes(8).replace(/[\r\n ]/g, '');
  return path;
}

function authorization(rng: Rng): string {
  const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const key = rng.pick([f.emulator.accessKeyId, 'nobody', '', 'a/b']);
  const scope = rng.pick([
    `${date.slice(0, 8)}/auto/s3/aws4_request`,
    'x/y/z',
    `${date.slice(0, 8)}/moon/s3/aws4_request`,
  ]);
  const signed = rng.pick([
    'host',
    'constructor;host',
    '__proto__',
    'host;x-amz-date;x-amz-content-sha256',
    ';;',
    'host;x-missing',
  ]);
  return rng.pick([
    `AWS4-HMAC-SHA256 Credential=${key}/${scope}, SignedHeaders=${signed}, Signature=${'0'.repeat(64)}`,
    'AWS4-HMAC-SHA256',
    'Bearer x',
    `Bearer ${f.emulator.apiToken}`,
    rng.pick(HEADER_VALUES),
  ]);
}

/** A malformed request as raw HTTP/1.1 bytes. */
function malformed(rng: Rng, listener: Listener): string {
  const method = rng.pick(METHODS);
  const headers: [string, string][] = [['Host', listener.host()]];
  if (rng.chance(0.05)) headers.push(['Host', 'other.example']);
  if (listener.name === 'api' && rng.chance(0.7)) headers.push(['Authorization', `Bearer ${f.emulator.apiToken}`]);
  else if (rng.chance(0.4)) headers.push(['Authorization', authorization(rng)]);
  if (rng.chance(0.6)) headers.push(['Origin', rng.pick(ORIGINS)]);
  if (rng.chance(0.4)) headers.push(['Access-Control-Request-Method', rng.pick([...METHODS, ...HEADER_VALUES])]);
  if (rng.chance(0.3))
    headers.push(['Access-Control-Request-Headers', rng.pick(['x-a, X-B', ',,,', 'x-\u00e9', ...HEADER_VALUES])]);
  if (rng.chance(0.3)) headers.push(['X-Amz-Date', rng.pick(['20260101T000000Z', 'yesterday', ''])]);
  if (rng.chance(0.3)) headers.push(['X-Amz-Content-Sha256', rng.pick(['UNSIGNED-PAYLOAD', '0'.repeat(64), 'x'])]);
  if (rng.chance(0.2))
    headers.push([`x-amz-meta-${rng.pick(['a', 'constructor', '__proto__'])}`, rng.pick(HEADER_VALUES)]);
  if (rng.chance(0.2))
    headers.push(['Range', rng.pick(['bytes=0-0', 'bytes=-', 'bytes=9-1', 'bytes=99999999999999999999-', 'lines=1'])]);
  if (rng.chance(0.1)) headers.push(['X-Amz-Copy-Source', '/fuzz/a.txt']);
  const body = rng.pick([
    '',
    rng.pick(XML),
    rng.pick(JSON_BODIES),
    rng.bytes(rng.int(200)),
    'x'.repeat(64 * 1024 + 1 + rng.int(10)),
  ]);
  const framing = rng.int(6);
  let framed: string;
  if (framing === 0 && body) {
    // Chunked, sometimes with a broken chunk size.
    const size = rng.chance(0.8)
      ? Buffer.byteLength(body, 'latin1').toString(16)
      : rng.pick(['zz', '-1', 'ffffffffffffffff']);
    headers.push(['Transfer-Encoding', 'chunked']);
    framed = `${size}\r\n${body}\r\n0\r\n\r\n`;
  } else if (framing === 1) {
    // A Content-Length that lies: shorter (the rest is a broken next request) or far too long.
    headers.push(['Content-Length', String(Math.max(0, Buffer.byteLength(body, 'latin1') + rng.pick([-1, 1e9])))]);
    framed = body;
  } else {
    headers.push(['Content-Length', String(Buffer.byteLength(body, 'latin1'))]);
    framed = body;
  }
  headers.push(['Connection', 'close']);
  return `${method} ${target(rng, listener)} HTTP/1.1\r\n${headers.map(([n, v]) => `${n}: ${v}`).join('\r\n')}\r\n\r\n${framed}`;
}

/** A well-formed request signed for real, with a fuzzed key, query, headers or body: reaches the S3 operations. */
async function signedMalformed(rng: Rng): Promise<string> {
  const key = rng.pick(['a.txt', 'constructor', '__proto__', '%', 'x'.repeat(1100), 'a/../b', '']);
  const query = rng.chance(0.6) ? `?${rng.pick(QUERIES)}` : '';
  const method = rng.pick(['GET', 'PUT', 'POST', 'DELETE', 'HEAD']);
  const url = `${f.emulator.endpoints.s3}/fuzz/${encodeURIComponent(key)}${query}`;
  const body =
    method === 'PUT' || method === 'POST' ? rng.pick([...XML, ...JSON_BODIES, 'x'.repeat(70_000)]) : undefined;
  const headers: Record<string, string> = {};
  if (rng.chance(0.3)) headers.range = rng.pick(['bytes=0-0', 'bytes=-', 'bytes=5-1']);
  if (rng.chance(0.3)) headers.origin = rng.pick(ORIGINS);
  const signed = await new AwsV4Signer({
    url,
    method,
    headers,
    body,
    accessKeyId: f.emulator.accessKeyId,
    secretAccessKey: f.emulator.secretAccessKey,
    service: 's3',
    region: 'auto',
  }).sign();
  const lines = [...signed.headers].map(([n, v]) => `${n}: ${v}`);
  if (rng.chance(0.2)) lines.push(`x-amz-meta-unsigned: ${rng.pick(HEADER_VALUES)}`);
  lines.push(`content-length: ${Buffer.byteLength(body ?? '')}`, 'connection: close');
  const u = new URL(signed.url);
  return `${method} ${u.pathname}${u.search} HTTP/1.1\r\nhost: ${u.host}\r\n${lines.filter((l) => !l.startsWith('host:')).join('\r\n')}\r\n\r\n${body ?? ''}`;
}

/** Sends raw bytes; resolves with the status line's code, or 0 when the connection ended without an answer. */
function exchange(endpoint: string, bytes: string): Promise<{ status: number; head: string }> {
  const { hostname, port } = new URL(endpoint);
  return new Promise((resolve) => {
    let data = '';
    const done = () => {
      socket.destroy();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      resolve({ status, head: data.split('\r\n')[0] ?? '' });
    };
    const socket = connect({ host: hostname, port: Number(port), ca: f.ca }, () => {
      socket.write(Buffer.from(bytes, 'latin1'));
    });
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      if (/^HTTP\/1\.1 \d{3}/.test(data)) done();
    });
    socket.on('close', done);
    socket.on('error', done);
    setTimeout(done, 4_000).unref();
  });
}

async function normalRequestsAnswered() {
  assert.equal((await f.signed('GET', '/steady/a.txt')).body, 'a');
  assert.equal((await f.rest('GET', `/accounts/${f.emulator.accountId}/r2/buckets/steady/cors`)).status, 200);
  const origin = { origin: 'https://a.example' };
  const pub = await f.http(`https://${steadyHost}/a.txt`, { headers: origin });
  assert.equal(pub.status, 200);
  assert.equal(pub.headers['access-control-allow-origin'], 'https://a.example');
  assert.equal((await f.http(`https://${STEADY_DOMAIN}/a.txt`, { headers: origin })).body, 'a');
}

test(`fuzz: malformed requests to all four listeners (seed ${SEED}): no exit, no 5xx, normal requests answered`, async (t) => {
  const rng = prng(SEED);
  const errors: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => errors.push(args.map(String).join(' '));
  const statuses = new Map<string, number>();
  const failures: string[] = [];
  const started = Date.now();
  let sent = 0;
  try {
    while (sent < MAX_REQUESTS && Date.now() - started < BUDGET_MS && failures.length === 0) {
      const batch = await Promise.all(
        Array.from({ length: PARALLEL }, async () => {
          const listener = rng.pick(LISTENERS);
          const signedS3 = listener.name === 's3' && rng.chance(0.4);
          const bytes = signedS3 ? await signedMalformed(rng) : malformed(rng, listener);
          const index = sent++;
          const t0 = Date.now();
          const { status, head } = await exchange(f.emulator.endpoints[listener.name], bytes);
          const ms = Date.now() - t0;
          return { listener: listener.name, status, head, index, ms, first: bytes.split('\r\n')[0].slice(0, 120) };
        }),
      );
      for (const r of batch) {
        const bucket = `${r.listener} ${r.status === 0 ? 'no answer' : `${String(r.status)[0]}xx`}`;
        statuses.set(bucket, (statuses.get(bucket) ?? 0) + 1);
        if (r.status >= 500 && r.status !== 501)
          failures.push(`#${r.index} ${r.listener}: ${r.head} for ${JSON.stringify(r.first)}`);
        if (process.env.FUZZ_VERBOSE)
          t.diagnostic(`#${r.index} ${r.listener} ${r.status} ${r.ms}ms ${JSON.stringify(r.first)}`);
      }
      if (sent % (PARALLEL * 10) === 0) await normalRequestsAnswered();
    }
    await normalRequestsAnswered();
  } finally {
    console.error = original;
  }
  t.diagnostic(
    `${sent} requests in ${((Date.now() - started) / 1000).toFixed(1)} s: ${[...statuses]
      .sort()
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  assert.deepEqual(failures, [], `5xx answers (replay with FUZZ_SEED=${SEED})`);
  assert.deepEqual(
    errors.filter((e) => e.includes('internal error')),
    [],
    `internal errors logged (replay with FUZZ_SEED=${SEED})`,
  );
});
