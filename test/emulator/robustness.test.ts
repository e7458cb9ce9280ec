import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect } from 'node:tls';
import { CreateBucketCommand, GetBucketCorsCommand } from '@aws-sdk/client-s3';
import { AwsV4Signer } from 'aws4fetch';
import { RequestLog } from '../../harness/emulator/request-log.ts';
import { type EmulatorFixture, emulatorFixture } from './fixture.ts';

let f: EmulatorFixture;
before(async () => {
  f = await emulatorFixture({ maxObjectBytes: 1024 * 1024 });
  await f.s3.send(new CreateBucketCommand({ Bucket: 'rough' }));
});
after(() => f.close());

/** A signed S3 request through undici, the way the harness will send them. */
async function signed(method: string, pathAndQuery: string, body?: string, headers: Record<string, string> = {}) {
  const signer = new AwsV4Signer({
    url: `${f.emulator.endpoints.s3}${pathAndQuery}`,
    method,
    headers,
    body,
    accessKeyId: f.emulator.accessKeyId,
    secretAccessKey: f.emulator.secretAccessKey,
    service: 's3',
    region: 'auto',
  });
  const request = await signer.sign();
  return f.http(request.url.toString(), { method, headers: Object.fromEntries(request.headers), body });
}

/** Raw bytes over TLS to an endpoint; resolves with whatever comes back before the server closes or 2 s pass. */
function rawExchange(endpoint: string, bytes: string, endAfterWrite = false): Promise<string> {
  const { hostname, port } = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ca: f.ca }, () => {
      socket.write(bytes);
      if (endAfterWrite) socket.end();
    });
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk;
    });
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
    setTimeout(() => {
      socket.destroy();
      resolve(data);
    }, 2000).unref();
  });
}

describe('bad input gets a correct error, never a crash or a hang', () => {
  test('malformed CORS XML: 400 MalformedXML', async () => {
    const r = await signed('PUT', '/rough?cors', '<CORSConfiguration><CORSRule>');
    assert.equal(r.status, 400);
    assert.match(r.body, /<Code>MalformedXML<\/Code>/);
  });

  test('a CORS document over 64 KB: 400 MalformedXML', async () => {
    const origins = Array.from({ length: 3000 }, (_, i) => `<AllowedOrigin>https://o${i}.example</AllowedOrigin>`).join(
      '',
    );
    const body = `<CORSConfiguration><CORSRule>${origins}<AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`;
    assert.ok(body.length > 64 * 1024);
    const r = await signed('PUT', '/rough?cors', body);
    assert.equal(r.status, 400);
    assert.match(r.body, /<Code>MalformedXML<\/Code>/);
  });

  test('an invalid policy: R2 own error (InvalidRequest for a method)', async () => {
    const r = await signed(
      'PUT',
      '/rough?cors',
      '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>TRACE</AllowedMethod></CORSRule></CORSConfiguration>',
    );
    assert.equal(r.status, 400);
    assert.match(r.body, /<Code>InvalidRequest<\/Code>/);
  });

  test('an object over the size limit (Content-Length): 413 EntityTooLarge, and the server goes on', async () => {
    const r = await signed('PUT', '/rough/huge.bin', 'x'.repeat(1024 * 1024 + 1));
    assert.equal(r.status, 413);
    assert.match(r.body, /EntityTooLarge/);
    assert.equal((await signed('GET', '/rough?list-type=2')).status, 200);
  });

  test('unknown routes: 501 on the S3 API, 404 (code 7003) on the REST API', async () => {
    assert.equal((await signed('GET', '/rough?acl')).status, 501);
    const rest = await f.rest('GET', '/nowhere');
    assert.equal(rest.status, 404);
    assert.equal(rest.json.errors[0].code, 7003);
  });

  test('garbage instead of HTTP: 400 and the connection closes', async () => {
    const reply = await rawExchange(f.emulator.endpoints.s3, 'NOT HTTP AT ALL\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 400 Bad Request/);
  });

  test('oversized headers: 431', async () => {
    const reply = await rawExchange(
      f.emulator.endpoints.public,
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    assert.match(reply, /^HTTP\/1\.1 431/);
  });

  test('a half-closed connection in the middle of a request does not hang or kill the server', async () => {
    await rawExchange(
      f.emulator.endpoints.s3,
      'PUT /rough/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc',
      true,
    );
    assert.equal((await signed('GET', '/rough?list-type=2')).status, 200);
  });

  test('concurrent policy writes: every one answered, the last one read back is one of them', async () => {
    const policies = Array.from({ length: 40 }, (_, i) => `https://writer${i}.example`);
    const results = await Promise.all(
      policies.map((origin) =>
        signed(
          'PUT',
          '/rough?cors',
          `<CORSConfiguration><CORSRule><AllowedOrigin>${origin}</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`,
        ),
      ),
    );
    assert.ok(results.every((r) => r.status === 200));
    const { CORSRules } = await f.s3.send(new GetBucketCorsCommand({ Bucket: 'rough' }));
    assert.equal(CORSRules?.length, 1);
    assert.ok(policies.includes(CORSRules?.[0].AllowedOrigins?.[0] ?? ''));
  });
});

describe('memory stays bounded', () => {
  test('the request log keeps only its capacity', () => {
    const log = new RequestLog(100);
    for (let i = 0; i < 1000; i++) log.add({ surface: 's3', method: 'GET', host: 'h', path: `/${i}`, status: 200 });
    const { entries, next } = log.since(0);
    assert.equal(entries.length, 100);
    assert.equal(entries[0].path, '/900');
    assert.equal(next, 1000);
  });
});
