import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCorsCommand,
  DeleteObjectCommand,
  GetBucketCorsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { type EmulatorFixture, emulatorFixture } from './fixture.ts';

/** An AWS SDK error of this name and HTTP status. */
const sdkError =
  (name: string, status: number) => (error: { name?: string; $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(error.name, name);
    assert.equal(error.$metadata?.httpStatusCode, status);
    return true;
  };

/** R2's smallest part but the last. */
const MIB5 = 5 * 1024 * 1024;

let f: EmulatorFixture;
before(async () => {
  f = await emulatorFixture();
  await f.s3.send(new CreateBucketCommand({ Bucket: 'sdk' }));
});
after(() => f.close());

const UPLOAD_RULES = [
  {
    AllowedOrigins: ['https://example.com'],
    AllowedMethods: ['PUT', 'GET'],
    AllowedHeaders: ['Content-Type'],
    ExposeHeaders: ['ETag'],
    MaxAgeSeconds: 3600,
  },
];

describe('AWS SDK v3 against the S3 API', () => {
  test('buckets are listed', async () => {
    const { Buckets } = await f.s3.send(new ListBucketsCommand({}));
    assert.ok(Buckets?.some((b) => b.Name === 'sdk'));
  });

  test('PutBucketCors → GetBucketCors round trip; DeleteBucketCors → NoSuchCORSConfiguration', async () => {
    await f.s3.send(new PutBucketCorsCommand({ Bucket: 'sdk', CORSConfiguration: { CORSRules: UPLOAD_RULES } }));
    const { CORSRules } = await f.s3.send(new GetBucketCorsCommand({ Bucket: 'sdk' }));
    assert.deepEqual(CORSRules, UPLOAD_RULES);
    await f.s3.send(new DeleteBucketCorsCommand({ Bucket: 'sdk' }));
    await assert.rejects(f.s3.send(new GetBucketCorsCommand({ Bucket: 'sdk' })), { name: 'NoSuchCORSConfiguration' });
    await f.s3.send(new PutBucketCorsCommand({ Bucket: 'sdk', CORSConfiguration: { CORSRules: UPLOAD_RULES } }));
  });

  test('an invalid policy is refused with R2 errors: bad origin MalformedXML, bad method InvalidRequest', async () => {
    await assert.rejects(
      f.s3.send(
        new PutBucketCorsCommand({
          Bucket: 'sdk',
          CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['http://localhost:*'], AllowedMethods: ['GET'] }] },
        }),
      ),
      sdkError('MalformedXML', 400),
    );
    await assert.rejects(
      f.s3.send(
        new PutBucketCorsCommand({
          Bucket: 'sdk',
          CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['PATCH'] }] },
        }),
      ),
      { name: 'InvalidRequest' },
    );
  });

  test('PutObject, GetObject, HeadObject, ListObjectsV2, DeleteObject; ETag on every object response', async () => {
    const put = await f.s3.send(
      new PutObjectCommand({
        Bucket: 'sdk',
        Key: 'dir/a b.txt',
        Body: 'hello',
        ContentType: 'text/plain',
        Metadata: { owner: 'me' },
      }),
    );
    assert.equal(put.ETag, '"5d41402abc4b2a76b9719d911017c592"');
    const got = await f.s3.send(new GetObjectCommand({ Bucket: 'sdk', Key: 'dir/a b.txt' }));
    assert.equal(await got.Body?.transformToString(), 'hello');
    assert.equal(got.ETag, put.ETag);
    assert.equal(got.ContentType, 'text/plain');
    assert.deepEqual(got.Metadata, { owner: 'me' });
    const head = await f.s3.send(new HeadObjectCommand({ Bucket: 'sdk', Key: 'dir/a b.txt' }));
    assert.equal(head.ETag, put.ETag);
    assert.equal(head.ContentLength, 5);
    const list = await f.s3.send(new ListObjectsV2Command({ Bucket: 'sdk', Prefix: 'dir/' }));
    assert.deepEqual(
      list.Contents?.map((o) => o.Key),
      ['dir/a b.txt'],
    );
    await f.s3.send(new DeleteObjectCommand({ Bucket: 'sdk', Key: 'dir/a b.txt' }));
    await assert.rejects(
      f.s3.send(new HeadObjectCommand({ Bucket: 'sdk', Key: 'dir/a b.txt' })),
      sdkError('NotFound', 404),
    );
  });

  test('multipart upload: create, parts, complete gives the S3 multipart ETag; abort forgets it', async () => {
    const { UploadId } = await f.s3.send(
      new CreateMultipartUploadCommand({ Bucket: 'sdk', Key: 'big.bin', ContentType: 'application/octet-stream' }),
    );
    // R2: every part but the last at least 5 MiB [doc].
    const part1 = await f.s3.send(
      new UploadPartCommand({ Bucket: 'sdk', Key: 'big.bin', UploadId, PartNumber: 1, Body: Buffer.alloc(MIB5, 1) }),
    );
    const part2 = await f.s3.send(
      new UploadPartCommand({ Bucket: 'sdk', Key: 'big.bin', UploadId, PartNumber: 2, Body: Buffer.alloc(10, 2) }),
    );
    const done = await f.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'sdk',
        Key: 'big.bin',
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: part1.ETag },
            { PartNumber: 2, ETag: part2.ETag },
          ],
        },
      }),
    );
    assert.match(done.ETag ?? '', /^"[0-9a-f]{32}-2"$/);
    const head = await f.s3.send(new HeadObjectCommand({ Bucket: 'sdk', Key: 'big.bin' }));
    assert.equal(head.ContentLength, MIB5 + 10);
    // A part but the last under 5 MiB: the Complete is refused, and the upload stays open.
    const small = await f.s3.send(new CreateMultipartUploadCommand({ Bucket: 'sdk', Key: 'small.bin' }));
    const parts = [];
    for (const PartNumber of [1, 2]) {
      const body = Buffer.alloc(MIB5 - 1, PartNumber);
      const sent = await f.s3.send(
        new UploadPartCommand({ Bucket: 'sdk', Key: 'small.bin', UploadId: small.UploadId, PartNumber, Body: body }),
      );
      parts.push({ PartNumber, ETag: sent.ETag });
    }
    const complete = new CompleteMultipartUploadCommand({
      Bucket: 'sdk',
      Key: 'small.bin',
      UploadId: small.UploadId,
      MultipartUpload: { Parts: parts },
    });
    await assert.rejects(f.s3.send(complete), sdkError('EntityTooSmall', 400));
    await f.s3.send(new AbortMultipartUploadCommand({ Bucket: 'sdk', Key: 'small.bin', UploadId: small.UploadId }));
    const other = await f.s3.send(new CreateMultipartUploadCommand({ Bucket: 'sdk', Key: 'gone.bin' }));
    await f.s3.send(new AbortMultipartUploadCommand({ Bucket: 'sdk', Key: 'gone.bin', UploadId: other.UploadId }));
    await assert.rejects(
      f.s3.send(
        new UploadPartCommand({ Bucket: 'sdk', Key: 'gone.bin', UploadId: other.UploadId, PartNumber: 1, Body: 'x' }),
      ),
      { name: 'NoSuchUpload' },
    );
  });
});

describe('presigned URLs used from undici, with their preflights', () => {
  test('presigned PUT: the preflight is answered per the policy, the PUT succeeds with exposed ETag', async () => {
    const url = await getSignedUrl(
      f.s3,
      new PutObjectCommand({ Bucket: 'sdk', Key: 'up/report.json', ContentType: 'application/json' }),
      { expiresIn: 600 },
    );
    const preflight = await f.http(url, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://example.com',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'content-type',
      },
    });
    assert.equal(preflight.status, 200);
    assert.equal(preflight.headers['access-control-allow-origin'], 'https://example.com');
    assert.equal(preflight.headers['access-control-allow-headers'], 'content-type');
    const put = await f.http(url, {
      method: 'PUT',
      headers: { origin: 'https://example.com', 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    assert.equal(put.status, 200);
    assert.match(String(put.headers.etag), /^"[0-9a-f]{32}"$/);
    assert.equal(put.headers['access-control-expose-headers'], 'ETag');
  });

  test('the preflight of a disallowed origin or header is refused with 403 and no CORS headers', async () => {
    const url = await getSignedUrl(f.s3, new PutObjectCommand({ Bucket: 'sdk', Key: 'up/x' }), { expiresIn: 600 });
    for (const headers of <Record<string, string>[]>[
      { origin: 'https://evil.example', 'access-control-request-method': 'PUT' },
      {
        origin: 'https://example.com',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'x-amz-meta-a',
      },
    ]) {
      const preflight = await f.http(url, { method: 'OPTIONS', headers });
      assert.equal(preflight.status, 403);
      assert.equal(preflight.headers['access-control-allow-origin'], undefined);
      assert.match(preflight.body, /<Code>AccessForbidden<\/Code>/);
    }
  });

  test('presigned GET works; a GET from an unlisted origin still gets the object, without CORS headers', async () => {
    await f.s3.send(new PutObjectCommand({ Bucket: 'sdk', Key: 'pub.txt', Body: 'x' }));
    const url = await getSignedUrl(f.s3, new GetObjectCommand({ Bucket: 'sdk', Key: 'pub.txt' }), { expiresIn: 60 });
    const ok = await f.http(url, { headers: { origin: 'https://example.com' } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['access-control-allow-origin'], 'https://example.com');
    const other = await f.http(url, { headers: { origin: 'https://evil.example' } });
    assert.equal(other.status, 200);
    assert.equal(other.headers['access-control-allow-origin'], undefined);
  });

  test('a tampered presigned URL is refused with 403 SignatureDoesNotMatch, in R2 XML without xmlns', async () => {
    const url = await getSignedUrl(f.s3, new PutObjectCommand({ Bucket: 'sdk', Key: 'up/mine' }), { expiresIn: 600 });
    const tampered = await f.http(url.replace('up/mine', 'up/theirs'), { method: 'PUT', body: 'x' });
    assert.equal(tampered.status, 403);
    assert.match(
      tampered.body,
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>SignatureDoesNotMatch<\/Code>/,
    );
    assert.doesNotMatch(tampered.body, /xmlns/);
  });

  test('expired → 403 ExpiredRequest; X-Amz-Expires over a week → 400 InvalidArgument; unknown key → 401', async () => {
    const past = new Date(Date.now() - 120_000);
    const expired = await getSignedUrl(f.s3, new GetObjectCommand({ Bucket: 'sdk', Key: 'pub.txt' }), {
      expiresIn: 1,
      signingDate: past,
    });
    const e = await f.http(expired);
    assert.equal(e.status, 403);
    assert.match(e.body, /<Code>ExpiredRequest<\/Code>/);
    const week = await getSignedUrl(f.s3, new GetObjectCommand({ Bucket: 'sdk', Key: 'pub.txt' }), { expiresIn: 600 });
    const tooLong = await f.http(week.replace('X-Amz-Expires=600', 'X-Amz-Expires=604801'));
    assert.equal(tooLong.status, 400);
    assert.match(tooLong.body, /<Code>InvalidArgument<\/Code>/);
    const unknown = await f.http(week.replace(/X-Amz-Credential=[0-9a-f]+/, 'X-Amz-Credential=nobody'));
    assert.equal(unknown.status, 401);
  });

  test('a request without any authentication is refused with 403', async () => {
    const anonymous = await f.http(`${f.emulator.endpoints.s3}/sdk/pub.txt`);
    assert.equal(anonymous.status, 403);
    assert.match(anonymous.body, /<Code>AccessDenied<\/Code>/);
  });

  test('virtual-host style reaches the same bucket by R2 host name', async () => {
    const url = await getSignedUrl(f.s3, new GetObjectCommand({ Bucket: 'sdk', Key: 'pub.txt' }), { expiresIn: 60 });
    // The same object through `<bucket>.<account>.r2.cloudflarestorage.com`, signed for that host.
    const { S3Client } = await import('@aws-sdk/client-s3');
    const virtual = new S3Client({
      region: 'auto',
      endpoint: `https://${f.emulator.accountId}.r2.cloudflarestorage.com`,
      credentials: { accessKeyId: f.emulator.accessKeyId, secretAccessKey: f.emulator.secretAccessKey },
    });
    const signed = await getSignedUrl(virtual, new GetObjectCommand({ Bucket: 'sdk', Key: 'pub.txt' }), {
      expiresIn: 60,
    });
    assert.match(
      signed,
      new RegExp(`^https://sdk\\.${f.emulator.accountId}\\.r2\\.cloudflarestorage\\.com/pub\\.txt\\?`),
    );
    assert.equal((await f.http(signed)).body, 'x');
    assert.equal((await f.http(url)).body, 'x');
    virtual.destroy();
  });
});
