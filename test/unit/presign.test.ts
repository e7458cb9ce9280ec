import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type PresignRequest, presignUrl, tamperSignature } from '../../harness/clients/presign.ts';

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  region: 'auto',
  s3Endpoint: 'https://acct.r2.cloudflarestorage.com',
};
const put: PresignRequest = {
  method: 'PUT',
  bucket: 'uploads',
  key: 'photos/cat.png',
  url: 'https://acct.r2.cloudflarestorage.com/uploads/photos/cat.png',
  expiresSeconds: 600,
  query: {},
  signedAt: new Date('2026-03-04T05:06:07Z'),
};
const params = (url: string) => new URL(url).searchParams;

describe('presigned URLs as apps make them', () => {
  test('harness and aws4fetch: the object URL with SigV4 query parameters, nothing else', async () => {
    for (const presigner of ['harness', 'aws4fetch'] as const) {
      const url = await presignUrl(credentials, { ...put, presigner });
      const q = params(url);
      assert.equal(new URL(url).pathname, '/uploads/photos/cat.png', presigner);
      assert.equal(q.get('X-Amz-Date'), '20260304T050607Z', presigner);
      assert.equal(q.get('X-Amz-Expires'), '600', presigner);
      assert.equal(q.get('X-Amz-SignedHeaders'), 'host', presigner);
      assert.equal(q.get('X-Amz-Credential'), 'AKIDEXAMPLE/20260304/auto/s3/aws4_request', presigner);
      assert.equal([...q.keys()].filter((k) => /checksum/i.test(k)).length, 0, presigner);
    }
  });

  test("aws-sdk-v3 (the SDK's defaults) signs the CRC32 of an empty body into a PUT", async () => {
    const q = params(await presignUrl(credentials, { ...put, presigner: 'aws-sdk-v3' }));
    assert.equal(q.get('x-amz-checksum-crc32'), 'AAAAAA==');
    assert.equal(q.get('x-amz-sdk-checksum-algorithm'), 'CRC32');
    assert.equal(q.get('x-id'), 'PutObject');
    assert.equal(q.get('X-Amz-Date'), '20260304T050607Z');
  });

  test('aws-sdk-v3-when-required signs no checksum; a GET from aws-sdk-v3 asks for checksum mode', async () => {
    const q = params(await presignUrl(credentials, { ...put, presigner: 'aws-sdk-v3-when-required' }));
    assert.equal([...q.keys()].filter((k) => /checksum/i.test(k)).length, 0);
    const get = params(await presignUrl(credentials, { ...put, method: 'GET', presigner: 'aws-sdk-v3' }));
    assert.equal(get.get('x-amz-checksum-mode'), 'ENABLED');
    assert.equal(get.get('x-id'), 'GetObject');
  });

  test('the SDK presigns an UploadPart with its part number and upload id', async () => {
    const query = { partNumber: '2', uploadId: 'abc' };
    const q = params(await presignUrl(credentials, { ...put, query, presigner: 'aws-sdk-v3-when-required' }));
    assert.equal(q.get('partNumber'), '2');
    assert.equal(q.get('uploadId'), 'abc');
    assert.equal(q.get('x-id'), 'UploadPart');
  });

  test('POST cannot be presigned by the SDK', async () => {
    await assert.rejects(presignUrl(credentials, { ...put, method: 'POST', presigner: 'aws-sdk-v3' }), {
      message: 'the AWS SDK presigns GET, HEAD, PUT and DELETE, not POST',
    });
  });

  test('tampering changes one hex digit of the signature and nothing else', async () => {
    const url = await presignUrl(credentials, put);
    const tampered = tamperSignature(url);
    const [a, b] = [params(url), params(tampered)];
    assert.notEqual(a.get('X-Amz-Signature'), b.get('X-Amz-Signature'));
    assert.equal(a.get('X-Amz-Signature')?.slice(0, -1), b.get('X-Amz-Signature')?.slice(0, -1));
    assert.match(b.get('X-Amz-Signature') ?? '', /^[0-9a-f]{64}$/);
    a.delete('X-Amz-Signature');
    b.delete('X-Amz-Signature');
    assert.equal(a.toString(), b.toString());
    assert.throws(() => tamperSignature('https://x.example/a'), {
      message: 'not a presigned URL: it has no X-Amz-Signature',
    });
  });
});

describe('a checksum the server signs into the URL', () => {
  test('every presigner puts x-amz-checksum-<algorithm> in the signed query', async () => {
    for (const presigner of ['harness', 'aws4fetch', 'aws-sdk-v3-when-required'] as const) {
      const checksum = { algorithm: 'sha256' as const, value: 'LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=' };
      const q = params(await presignUrl(credentials, { ...put, presigner, checksum }));
      assert.equal(q.get('x-amz-checksum-sha256'), checksum.value, presigner);
    }
  });
});
