/**
 * What a hostile or careless client can send the emulator (issue 12): every finding of that probe, each as a
 * test that failed before the fix. The emulator must answer each request in its surface's own format, with R2's
 * or S3's code, and go on answering; a 500 is a bug in the emulator and comes with a line on stderr.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { AwsV4Signer } from 'aws4fetch';
import { tempDir } from '../temp-dir.ts';
import { type EmulatorFixture, emulatorFixture, rawExchange } from './fixture.ts';
import { streamUpload } from './upload.ts';

const LIMIT = 1024 * 1024;
const ZONE = 'zone-hostile';
const DOMAIN = 'hostile.test';

let f: EmulatorFixture;
let bucketApi: string;
before(async () => {
  f = await emulatorFixture({ maxObjectBytes: LIMIT });
  await f.s3.send(new CreateBucketCommand({ Bucket: 'hostile' }));
  bucketApi = `/accounts/${f.emulator.accountId}/r2/buckets/hostile`;
  assert.equal((await f.rest('POST', `${bucketApi}/domains/custom`, { domain: DOMAIN, zoneId: ZONE })).status, 200);
});
after(() => f.close());

const xmlCode = (body: string) => /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
const corsXml = (inner: string) =>
  `<CORSConfiguration><CORSRule><AllowedOrigin>https://a.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod>${inner}</CORSRule></CORSConfiguration>`;

/** Collects what the emulator writes to stderr while `run` runs. */
async function stderrOf(run: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => lines.push(args.map(String).join(' '));
  try {
    await run();
  } finally {
    console.error = original;
  }
  return lines;
}

describe('a handler that throws: a 500 for that request and a log line, never an exit', () => {
  test('a stored policy whose ExposeHeaders R2 would refuse (x-€) no longer kills the public hosts', async () => {
    // A data directory written before header names were validated: the policy reaches the data plane as it is.
    const dataDir = tempDir('r2-cors-hostile-');
    const first = await emulatorFixture({ dataDir });
    await first.s3.send(new CreateBucketCommand({ Bucket: 'legacy' }));
    await first.s3.send(new PutObjectCommand({ Bucket: 'legacy', Key: 'logo.svg', Body: '<svg/>' }));
    const api = `/accounts/${first.emulator.accountId}/r2/buckets/legacy`;
    const publicHost = (
      (await first.rest('PUT', `${api}/domains/managed`, { enabled: true })).json.result as {
        domain: string;
      }
    ).domain;
    await first.rest('POST', `${api}/domains/custom`, { domain: 'legacy.test', zoneId: 'zone-legacy' });
    const policy = { allowed: { origins: ['https://a.example'], methods: ['GET'] }, exposeHeaders: ['x-placeholder'] };
    assert.equal((await first.rest('PUT', `${api}/cors`, { rules: [policy] })).status, 200);
    await first.close();
    const state = path.join(dataDir, 'state.json');
    writeFileSync(state, readFileSync(state, 'utf8').replace('"x-placeholder"', '"x-€"'));

    const g = await emulatorFixture({ dataDir });
    try {
      const origin = { origin: 'https://a.example' };
      let publicReply: Awaited<ReturnType<typeof g.http>> | undefined;
      let customReply: typeof publicReply;
      let s3Reply: typeof publicReply;
      const logged = await stderrOf(async () => {
        publicReply = await g.http(`https://${publicHost}/logo.svg`, { headers: origin });
        customReply = await g.http('https://legacy.test/logo.svg', { headers: origin });
        s3Reply = await g.signed('GET', '/legacy/logo.svg', undefined, origin);
      });
      assert.equal(publicReply?.status, 500);
      assert.match(String(publicReply?.headers['content-type']), /^text\/html/);
      assert.equal(customReply?.status, 500);
      assert.match(String(customReply?.headers['content-type']), /^text\/html/);
      assert.equal(s3Reply?.status, 500);
      assert.equal(xmlCode(s3Reply?.body ?? ''), 'InternalError');
      assert.match(logged.join('\n'), /^r2 emulator: public GET \/logo\.svg: internal error \(answered 500\)/m);
      assert.match(logged.join('\n'), /^r2 emulator: custom GET \/logo\.svg: internal error \(answered 500\)/m);
      // Still alive: the same object without Origin (no CORS headers to write) is served.
      assert.equal((await g.http(`https://${publicHost}/logo.svg`)).body, '<svg/>');
    } finally {
      await g.close();
    }
  });
});

describe('header names are HTTP tokens (RFC 9110), in every format, with R2’s errors', () => {
  for (const [field, value] of [
    ['exposeHeaders', 'x-€'],
    ['exposeHeaders', 'x-a\r\nx-injected: 1'],
    ['allowed.headers', 'content type'],
  ] as const) {
    test(`REST: ${field} ${JSON.stringify(value)} → 400, code 10040`, async () => {
      const rule =
        field === 'exposeHeaders'
          ? { allowed: { origins: ['*'], methods: ['GET'] }, exposeHeaders: [value] }
          : { allowed: { origins: ['*'], methods: ['GET'], headers: [value] } };
      const { status, json } = await f.rest('PUT', `${bucketApi}/cors`, { rules: [rule] });
      assert.equal(status, 400);
      assert.equal(json.errors[0].code, 10040);
      assert.match(json.errors[0].message, /is not an HTTP token/);
    });
  }

  for (const inner of [
    '<ExposeHeader>x-&#x20AC;</ExposeHeader>',
    '<ExposeHeader>x-a&#13;&#10;x-injected: 1</ExposeHeader>',
    '<AllowedHeader>x(y)</AllowedHeader>',
  ]) {
    test(`S3 PutBucketCors ${inner} → 400 MalformedXML`, async () => {
      const r = await f.signed('PUT', '/hostile?cors', corsXml(inner));
      assert.equal(r.status, 400);
      assert.equal(xmlCode(r.body), 'MalformedXML');
    });
  }

  test("'*' and one wildcard in a name stay allowed", async () => {
    const r = await f.signed(
      'PUT',
      '/hostile?cors',
      corsXml('<AllowedHeader>*</AllowedHeader><AllowedHeader>x-amz-meta-*</AllowedHeader>'),
    );
    assert.equal(r.status, 200);
    const rest = await f.rest('PUT', `${bucketApi}/cors`, {
      rules: [{ allowed: { origins: ['*'], methods: ['GET'], headers: ['*'] }, exposeHeaders: ['ETag'] }],
    });
    assert.equal(rest.status, 200);
  });
});

describe('bad input is a 4xx in the surface’s own format, never a 500', () => {
  const restRaw = (target: string) =>
    rawExchange(
      f.ca,
      f.emulator.endpoints.api,
      `GET ${target} HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer ${f.emulator.apiToken}\r\nConnection: close\r\n\r\n`,
    );

  for (const target of ['//', 'http://[::1', '//client/v4/accounts']) {
    test(`REST request target ${target}: 400 in Cloudflare's envelope`, async () => {
      const reply = await restRaw(target);
      assert.match(reply, /^HTTP\/1\.1 400 /);
      assert.match(reply, /\r\n\r\n\{"success":false,"errors":\[\{"code":7003,/);
    });
  }

  test('bad percent-encoding in a bucket or domain segment: 400, not 500', async () => {
    const account = `/accounts/${f.emulator.accountId}/r2/buckets`;
    for (const [method, apiPath] of [
      ['GET', `${account}/%E0%A4%A/cors`],
      ['GET', `${account}/%/cors`],
      ['DELETE', `${bucketApi}/domains/custom/%ZZ%`],
    ]) {
      const { status, json } = await f.rest(method, apiPath);
      assert.equal(status, 400, `${method} ${apiPath}`);
      assert.equal(json.success, false);
    }
  });

  test('a JSON body of null to the bucket, domain and purge endpoints: 400 with the endpoint’s code', async () => {
    const account = `/accounts/${f.emulator.accountId}/r2/buckets`;
    for (const [method, apiPath, code] of [
      ['POST', account, 10005],
      ['PUT', `${bucketApi}/domains/managed`, 10040],
      ['POST', `${bucketApi}/domains/custom`, 10040],
      ['PUT', `${bucketApi}/cors`, 10040],
      ['POST', `/zones/${ZONE}/purge_cache`, 1012],
    ] as const) {
      const { status, json } = await f.rest(method, apiPath, null);
      assert.equal(status, 400, `${method} ${apiPath}`);
      assert.equal(json.errors[0].code, code, `${method} ${apiPath}`);
    }
  });

  for (const [what, xml] of [
    [
      'a DOCTYPE with an external entity',
      '<!DOCTYPE c [<!ENTITY e SYSTEM "file:///etc/passwd">]><CORSConfiguration><CORSRule><AllowedOrigin>&e;</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>',
    ],
    ['a DOCTYPE with a parameter entity', `<!DOCTYPE c [<!ENTITY % e "x">]>${corsXml('')}`],
    ['an element named constructor', corsXml('<constructor>x</constructor>')],
    ['an element named __proto__', '<CORSConfiguration><__proto__><a/></__proto__></CORSConfiguration>'],
  ]) {
    test(`PutBucketCors with ${what}: 400 MalformedXML`, async () => {
      const r = await f.signed('PUT', '/hostile?cors', xml);
      assert.equal(r.status, 400);
      assert.equal(xmlCode(r.body), 'MalformedXML');
    });
  }

  test('an Authorization whose SignedHeaders names constructor: 403 SignatureDoesNotMatch, not 500', async () => {
    const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    const r = await f.http(`${f.emulator.endpoints.s3}/hostile?list-type=2`, {
      headers: {
        authorization: `AWS4-HMAC-SHA256 Credential=${f.emulator.accessKeyId}/${date.slice(0, 8)}/auto/s3/aws4_request, SignedHeaders=constructor;host;x-amz-content-sha256;x-amz-date, Signature=${'0'.repeat(64)}`,
        'x-amz-date': date,
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      },
    });
    assert.equal(r.status, 403);
    assert.equal(xmlCode(r.body), 'SignatureDoesNotMatch');
  });

  test('two Host headers: 400 on every listener, each in its own format', async () => {
    const twoHosts = 'GET /x HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\nConnection: close\r\n\r\n';
    for (const [surface, type] of [
      ['s3', 'application/xml'],
      ['api', 'application/json'],
      ['public', 'text/html'],
      ['custom', 'text/html'],
    ] as const) {
      const reply = await rawExchange(f.ca, f.emulator.endpoints[surface], twoHosts);
      assert.match(reply, /^HTTP\/1\.1 400 /, surface);
      assert.match(reply, new RegExp(`\r\nContent-Type: ${type.replace('/', '\\/')}`, 'i'), surface);
    }
  });

  test('a key over 1,024 bytes: 400 KeyTooLongError; 1,024 bytes are fine', async () => {
    const tooLong = await f.signed('PUT', `/hostile/${'k'.repeat(1025)}`, 'x');
    assert.equal(tooLong.status, 400);
    assert.equal(xmlCode(tooLong.body), 'KeyTooLongError');
    // Bytes, not characters: 342 × '€' (3 bytes each) is 1,026 bytes.
    const multiByte = await f.signed('PUT', `/hostile/${encodeURIComponent('€'.repeat(342))}`, 'x');
    assert.equal(multiByte.status, 400);
    assert.equal(xmlCode(multiByte.body), 'KeyTooLongError');
    assert.equal((await f.signed('PUT', `/hostile/${'k'.repeat(1024)}`, 'x')).status, 200);
  });
});

describe('the S3 API authenticates before it reads a body; over-size bodies get 413', () => {
  // An emulator with the default 64 MiB limit, so that 32 MiB bodies are within it: only authentication can
  // refuse them before they are read.
  let wide: EmulatorFixture;
  before(async () => {
    wide = await emulatorFixture();
  });
  after(() => wide.close());
  const objectUrl = () => `${wide.emulator.endpoints.s3}/hostile/upload.bin`;
  const big = 32 * 1024 * 1024;

  test('an anonymous 32 MiB upload is refused 403 before its body is sent', async () => {
    const r = await streamUpload(objectUrl(), { ca: wide.ca, total: big });
    assert.equal(r.status, 403);
    assert.equal(xmlCode(r.body), 'AccessDenied');
    assert.ok(r.answeredEarly, `the answer came only after ${r.sent} bytes, the whole body`);
  });

  test('a forged signature (unknown access key) is refused before its body is sent', async () => {
    const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
    const r = await streamUpload(objectUrl(), {
      ca: wide.ca,
      total: big,
      chunked: true,
      headers: {
        authorization: `AWS4-HMAC-SHA256 Credential=nobody/${date.slice(0, 8)}/auto/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${'0'.repeat(64)}`,
        'x-amz-date': date,
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      },
    });
    assert.equal(r.status, 401);
    assert.ok(r.answeredEarly, `the answer came only after ${r.sent} bytes, the whole body`);
  });

  test('four parallel anonymous 32 MiB uploads: each refused before its body, memory bounded', async (t) => {
    const before = process.memoryUsage().rss;
    const results = await Promise.all(
      [0, 1, 2, 3].map((i) => streamUpload(objectUrl(), { ca: wide.ca, total: big, chunked: i % 2 === 1 })),
    );
    const after = process.memoryUsage().rss;
    for (const r of results) {
      assert.equal(r.status, 403);
      assert.ok(r.answeredEarly, `the answer came only after ${r.sent} bytes, the whole body`);
    }
    const sent = results.reduce((sum, r) => sum + r.sent, 0);
    t.diagnostic(
      `RSS ${(before / 2 ** 20).toFixed(0)} → ${(after / 2 ** 20).toFixed(0)} MiB; ` +
        `${(sent / 2 ** 20).toFixed(1)} of ${(4 * big) / 2 ** 20} MiB offered were sent before the refusals`,
    );
  });

  for (const chunked of [false, true]) {
    test(`a signed upload over the limit (${chunked ? 'chunked' : 'Content-Length'}): 413 EntityTooLarge`, async () => {
      const url = `${f.emulator.endpoints.s3}/hostile/huge.bin`;
      const signed = await new AwsV4Signer({
        url,
        method: 'PUT',
        accessKeyId: f.emulator.accessKeyId,
        secretAccessKey: f.emulator.secretAccessKey,
        service: 's3',
        region: 'auto',
      }).sign();
      const r = await streamUpload(url, {
        ca: f.ca,
        total: 2 * LIMIT,
        chunked,
        headers: Object.fromEntries(signed.headers),
      });
      assert.equal(r.status, 413);
      assert.equal(xmlCode(r.body), 'EntityTooLarge');
      // The emulator goes on.
      assert.equal((await f.signed('GET', '/hostile?list-type=2')).status, 200);
    });
  }
});

describe('connections', () => {
  test('a request without a body keeps its connection; one refused before its body is read closes it', async () => {
    const get = await f.http(`https://${DOMAIN}/missing.txt`);
    assert.equal(get.status, 404);
    assert.equal(get.headers.connection, 'keep-alive');
    const refused = await f.http(`${f.emulator.endpoints.s3}/hostile/anonymous.txt`, { method: 'PUT', body: 'x' });
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.connection, 'close');
  });
});

describe('SigV4 as strict as S3', () => {
  const presignPut = (key: string) =>
    getSignedUrl(f.s3, new PutObjectCommand({ Bucket: 'hostile', Key: key }), { expiresIn: 600 });

  test('a presigned URL whose X-Amz-SignedHeaders names headers not sent: 403 SignatureDoesNotMatch', async () => {
    const url = await presignPut('tampered.txt');
    assert.match(url, /X-Amz-SignedHeaders=host&/);
    const r = await f.http(url.replace('X-Amz-SignedHeaders=host&', 'X-Amz-SignedHeaders=host%3Bx-amz-meta-role&'), {
      method: 'PUT',
      body: 'x',
    });
    assert.equal(r.status, 403);
    assert.equal(xmlCode(r.body), 'SignatureDoesNotMatch');
  });

  test('a presigned PUT with an unsigned x-amz-meta-* header: 403 AccessDenied, nothing stored', async () => {
    const url = await presignPut('meta.txt');
    const r = await f.http(url, { method: 'PUT', headers: { 'x-amz-meta-role': 'admin' }, body: 'x' });
    assert.equal(r.status, 403);
    assert.equal(xmlCode(r.body), 'AccessDenied');
    assert.match(r.body, /<Message>There were headers present in the request which were not signed<\/Message>/);
    assert.equal((await f.signed('GET', '/hostile/meta.txt')).status, 404);
    // The same URL without the extra header works: the SDK's presigned PUT is unaffected.
    assert.equal((await f.http(url, { method: 'PUT', body: 'x' })).status, 200);
  });

  test('a header-signed PUT with an x-amz-meta-* header added after signing: 403 AccessDenied', async () => {
    const url = `${f.emulator.endpoints.s3}/hostile/added.txt`;
    const signed = await new AwsV4Signer({
      url,
      method: 'PUT',
      body: 'x',
      accessKeyId: f.emulator.accessKeyId,
      secretAccessKey: f.emulator.secretAccessKey,
      service: 's3',
      region: 'auto',
    }).sign();
    const headers = { ...Object.fromEntries(signed.headers), 'x-amz-meta-role': 'admin' };
    const r = await f.http(url, { method: 'PUT', headers, body: 'x' });
    assert.equal(r.status, 403);
    assert.match(r.body, /There were headers present in the request which were not signed/);
  });

  test('a header-signed request that does not sign host is refused (it could be replayed on another host)', async () => {
    const signer = new SignatureV4({
      credentials: { accessKeyId: f.emulator.accessKeyId, secretAccessKey: f.emulator.secretAccessKey },
      region: 'auto',
      service: 's3',
      sha256: Hash.bind(null, 'sha256'),
      uriEscapePath: false,
      applyChecksum: false,
    });
    const unsignedHost = await signer.sign(
      new HttpRequest({
        method: 'GET',
        protocol: 'https:',
        hostname: '127.0.0.1',
        path: '/hostile',
        query: { 'list-type': '2' },
        headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      }),
    );
    assert.doesNotMatch(String(unsignedHost.headers.authorization), /SignedHeaders=[^,]*host/);
    const r = await f.http(`${f.emulator.endpoints.s3}/hostile?list-type=2`, {
      headers: unsignedHost.headers as Record<string, string>,
    });
    assert.equal(r.status, 400);
    assert.equal(xmlCode(r.body), 'AuthorizationHeaderMalformed');
  });

  test('a header-signed request without x-amz-content-sha256: 400 InvalidRequest, as S3', async () => {
    const signer = new SignatureV4({
      credentials: { accessKeyId: f.emulator.accessKeyId, secretAccessKey: f.emulator.secretAccessKey },
      region: 'auto',
      service: 's3',
      sha256: Hash.bind(null, 'sha256'),
      uriEscapePath: false,
      applyChecksum: false,
    });
    const host = new URL(f.emulator.endpoints.s3).host;
    const signed = await signer.sign(
      new HttpRequest({ method: 'GET', protocol: 'https:', hostname: host, path: '/hostile', headers: { host } }),
    );
    assert.equal(signed.headers['x-amz-content-sha256'], undefined);
    const r = await f.http(`${f.emulator.endpoints.s3}/hostile`, { headers: signed.headers });
    assert.equal(r.status, 400);
    assert.equal(xmlCode(r.body), 'InvalidRequest');
  });
});

describe('slow clients', () => {
  test('headers not sent within the header timeout: 408, when the timeout is due', async (t) => {
    const slow = await emulatorFixture({ headersTimeoutMs: 1_000 });
    try {
      const started = Date.now();
      // Far more than the 1 s timeout, so that only a timeout that is not honoured fails this.
      const reply = await rawExchange(slow.ca, slow.emulator.endpoints.s3, 'GET / HTTP/1.1\r\nHost: x\r\n', 10_000);
      t.diagnostic(`answered after ${Date.now() - started} ms (header timeout 1000 ms)`);
      assert.match(reply, /^HTTP\/1\.1 408 Request Timeout/);
    } finally {
      await slow.close();
    }
  });
});
