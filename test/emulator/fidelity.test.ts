/**
 * What breaks in the wild, proven with the real AWS SDK v3 against the emulator: checksummed presigned URLs,
 * presigned preflights, ranges and conditional GETs, and which error answers carry CORS headers.
 */
import assert from 'node:assert/strict';
import { Agent as HttpsAgent } from 'node:https';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { tamperSignature } from '../../harness/clients/presign.ts';
import { type EmulatorFixture, emulatorFixture } from './fixture.ts';

const ORIGIN = 'https://app.example';
let f: EmulatorFixture;
/** The SDK with its defaults since 3.729: checksums WHEN_SUPPORTED. */
let sdkDefault: S3Client;
let publicHost: string;

const codeOf = (body: string) => /<Code>([^<]*)<\/Code>/.exec(body)?.[1];

before(async () => {
  f = await emulatorFixture();
  sdkDefault = new S3Client({
    region: 'auto',
    endpoint: f.emulator.endpoints.s3,
    forcePathStyle: true,
    credentials: { accessKeyId: f.emulator.accessKeyId, secretAccessKey: f.emulator.secretAccessKey },
    requestHandler: new NodeHttpHandler({ httpsAgent: new HttpsAgent({ ca: f.ca }) }),
  });
  await f.s3.send(new CreateBucketCommand({ Bucket: 'wild' }));
  await f.s3.send(
    new PutBucketCorsCommand({
      Bucket: 'wild',
      CORSConfiguration: {
        CORSRules: [
          {
            AllowedOrigins: [ORIGIN],
            AllowedMethods: ['GET', 'PUT'],
            AllowedHeaders: ['content-type', 'x-amz-*', 'range', 'if-none-match'],
            ExposeHeaders: ['ETag', 'Content-Range'],
          },
        ],
      },
    }),
  );
  await f.s3.send(new PutObjectCommand({ Bucket: 'wild', Key: 'video.mp4', Body: '0123456789' }));
  const bucket = `/accounts/${f.emulator.accountId}/r2/buckets/wild`;
  publicHost = ((await f.rest('PUT', `${bucket}/domains/managed`, { enabled: true })).json.result as { domain: string })
    .domain;
});
after(async () => {
  sdkDefault.destroy();
  await f.close();
});

const preflight = (url: string, method: string, headers: Record<string, string> = {}) =>
  f.http(url, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': method, ...headers } });

describe('checksums, with the AWS SDK v3', () => {
  test('the SDK default client uploads with a CRC32 it computed, and reads it back with ChecksumMode', async () => {
    await sdkDefault.send(new PutObjectCommand({ Bucket: 'wild', Key: 'sdk.txt', Body: 'hello' }));
    const got = await sdkDefault.send(
      new GetObjectCommand({ Bucket: 'wild', Key: 'sdk.txt', ChecksumMode: 'ENABLED' }),
    );
    // CRC32("hello") = 0x3610a686; the SDK validates the body against it too.
    assert.equal(got.ChecksumCRC32, Buffer.from('3610a686', 'hex').toString('base64'));
    assert.equal(await got.Body?.transformToString(), 'hello');
  });

  test("the SDK's default presigned PUT signs the CRC32 of an empty body: a real file is refused, 400 BadDigest, without CORS headers", async () => {
    const url = await getSignedUrl(sdkDefault, new PutObjectCommand({ Bucket: 'wild', Key: 'upload.json' }), {
      expiresIn: 600,
    });
    assert.match(url, /[?&]x-amz-checksum-crc32=AAAAAA%3D%3D(&|$)/);
    const ok = await preflight(url, 'PUT', { 'access-control-request-headers': 'content-type' });
    assert.equal(ok.status, 200, 'the preflight passes: nothing is wrong with the URL or the policy');
    const put = await f.http(url, {
      method: 'PUT',
      headers: { origin: ORIGIN, 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    assert.equal(put.status, 400);
    assert.equal(codeOf(put.body), 'BadDigest');
    assert.equal(put.headers['access-control-allow-origin'], undefined, 'the page sees a network error');
    const stored = await f.http(url.replace(/\?.*$/, ''), { method: 'GET' });
    assert.equal(stored.status, 403, 'nothing is stored (and the bucket is private)');
    await assert.rejects(f.s3.send(new GetObjectCommand({ Bucket: 'wild', Key: 'upload.json' })), {
      name: 'NoSuchKey',
    });

    // The same URL takes an empty body, whose CRC32 it is.
    const empty = await f.http(url, { method: 'PUT', headers: { origin: ORIGIN } });
    assert.equal(empty.status, 200);
  });

  test('with requestChecksumCalculation WHEN_REQUIRED the presigned PUT carries no checksum and the file goes in', async () => {
    const url = await getSignedUrl(f.s3, new PutObjectCommand({ Bucket: 'wild', Key: 'upload2.json' }), {
      expiresIn: 600,
    });
    assert.doesNotMatch(url, /x-amz-checksum/);
    const put = await f.http(url, { method: 'PUT', headers: { origin: ORIGIN }, body: '{"a":1}' });
    assert.equal(put.status, 200);
    assert.equal(put.headers['access-control-allow-origin'], ORIGIN);
  });

  test('UploadPart with a SHA-256 checksum: 501 NotImplemented, as R2 answers', async () => {
    const { UploadId } = await f.s3.send(new CreateMultipartUploadCommand({ Bucket: 'wild', Key: 'parts.bin' }));
    await assert.rejects(
      sdkDefault.send(
        new UploadPartCommand({
          Bucket: 'wild',
          Key: 'parts.bin',
          UploadId,
          PartNumber: 1,
          Body: Buffer.alloc(16, 1),
          ChecksumAlgorithm: 'SHA256',
        }),
      ),
      (error: { name?: string; $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(error.$metadata?.httpStatusCode, 501);
        return true;
      },
    );
    // The SDK's default (CRC32) passes.
    const part = await sdkDefault.send(
      new UploadPartCommand({ Bucket: 'wild', Key: 'parts.bin', UploadId, PartNumber: 1, Body: Buffer.alloc(16, 1) }),
    );
    assert.match(part.ETag ?? '', /^"[0-9a-f]{32}"$/);
  });
});

describe('a preflight to a presigned URL is checked against its signature, with the requested method', () => {
  const presignPut = (signingDate?: Date, expiresIn = 600) =>
    getSignedUrl(f.s3, new PutObjectCommand({ Bucket: 'wild', Key: 'p.txt' }), { expiresIn, signingDate });

  test('the method the URL was signed for passes; another method is a signature mismatch', async () => {
    const url = await presignPut();
    assert.equal((await preflight(url, 'PUT')).status, 200);
    const get = await preflight(url, 'GET');
    assert.equal(get.status, 403);
    assert.equal(codeOf(get.body), 'SignatureDoesNotMatch');
  });

  test('an expired URL fails at the preflight: 403 ExpiredRequest without CORS headers', async () => {
    const url = await presignPut(new Date(Date.now() - 3600_000), 60);
    const answer = await preflight(url, 'PUT');
    assert.equal(answer.status, 403);
    assert.equal(codeOf(answer.body), 'ExpiredRequest');
    assert.equal(answer.headers['access-control-allow-origin'], undefined);
  });

  test('a tampered URL fails at the preflight: 403 SignatureDoesNotMatch without CORS headers', async () => {
    const url = tamperSignature(await presignPut());
    const answer = await preflight(url, 'PUT');
    assert.equal(answer.status, 403);
    assert.equal(codeOf(answer.body), 'SignatureDoesNotMatch');
    assert.equal(answer.headers['access-control-allow-origin'], undefined);
  });

  test('a URL that signs more than host: its expiry is checked, its signature cannot be on a preflight', async () => {
    const url = await getSignedUrl(
      f.s3,
      new PutObjectCommand({ Bucket: 'wild', Key: 'typed.txt', ContentType: 'text/plain' }),
      { expiresIn: 600, signableHeaders: new Set(['content-type']) },
    );
    assert.match(url, /X-Amz-SignedHeaders=content-type%3Bhost/);
    assert.equal((await preflight(url, 'PUT', { 'access-control-request-headers': 'content-type' })).status, 200);
  });
});

describe('ranges and conditional GETs', () => {
  test('Range through the SDK: 206 with Content-Range; past the end: 416 InvalidRange', async () => {
    const got = await f.s3.send(new GetObjectCommand({ Bucket: 'wild', Key: 'video.mp4', Range: 'bytes=2-5' }));
    assert.equal(got.$metadata.httpStatusCode, 206);
    assert.equal(got.ContentRange, 'bytes 2-5/10');
    assert.equal(await got.Body?.transformToString(), '2345');
    await assert.rejects(f.s3.send(new GetObjectCommand({ Bucket: 'wild', Key: 'video.mp4', Range: 'bytes=10-' })), {
      name: 'InvalidRange',
    });
  });

  test('on r2.dev a 206 carries CORS headers and Accept-Ranges; a 416 is an HTML page with them too', async () => {
    const url = `https://${publicHost}/video.mp4`;
    const partial = await f.http(url, { headers: { origin: ORIGIN, range: 'bytes=0-3' } });
    assert.equal(partial.status, 206);
    assert.equal(partial.body, '0123');
    assert.equal(partial.headers['content-range'], 'bytes 0-3/10');
    assert.equal(partial.headers['accept-ranges'], 'bytes');
    assert.equal(partial.headers['access-control-allow-origin'], ORIGIN);
    const beyond = await f.http(url, { headers: { origin: ORIGIN, range: 'bytes=50-' } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers['content-range'], 'bytes */10');
    assert.match(String(beyond.headers['content-type']), /^text\/html/);
    assert.equal(beyond.headers['access-control-allow-origin'], ORIGIN);
  });

  test('If-None-Match with the ETag: 304 with the ETag and CORS headers; If-Match with another: 412', async () => {
    const url = `https://${publicHost}/video.mp4`;
    const first = await f.http(url, { headers: { origin: ORIGIN } });
    const etag = String(first.headers.etag);
    const again = await f.http(url, { headers: { origin: ORIGIN, 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal(again.headers.etag, etag);
    assert.equal(again.body, '');
    assert.equal(again.headers['access-control-allow-origin'], ORIGIN);
    const failed = await f.http(url, { headers: { origin: ORIGIN, 'if-match': '"nope"' } });
    assert.equal(failed.status, 412);
    // On the S3 API the same 412 is an XML error without CORS headers (profile: corsOnErrors).
    const s3 = await f.http(
      await getSignedUrl(f.s3, new GetObjectCommand({ Bucket: 'wild', Key: 'video.mp4' }), { expiresIn: 600 }),
      { headers: { origin: ORIGIN, 'if-match': '"nope"' } },
    );
    assert.equal(s3.status, 412);
    assert.equal(codeOf(s3.body), 'PreconditionFailed');
    assert.equal(s3.headers['access-control-allow-origin'], undefined);
  });
});
