import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { R2_PROFILE } from '../../harness/cors/profile.ts';
import { type ChecksumContext, checksumOf, verifyChecksums } from '../../harness/emulator/checksum.ts';

const body = Buffer.from('123456789');

/** The S3 error code and message of a refusal. */
function refusalOf(result: Awaited<ReturnType<typeof verifyChecksums>>) {
  const xml = String(result.refusal?.body ?? '');
  return {
    status: result.refusal?.status,
    code: /<Code>([^<]*)<\/Code>/.exec(xml)?.[1],
    message: /<Message>([^<]*)<\/Message>/.exec(xml)?.[1]?.replaceAll('&apos;', "'"),
  };
}

const ctx = (o: Partial<ChecksumContext>): ChecksumContext => ({
  headers: {},
  query: new Map(),
  body,
  part: false,
  ...o,
});

describe('checksums of a body', () => {
  // The check values of each algorithm's catalogue entry (CRC RevEng; CRC-64/NVME is AWS's), over "123456789".
  test('CRC32, CRC32C and CRC64NVME give their catalogue check values', async () => {
    assert.equal(await checksumOf('crc32', body), Buffer.from('cbf43926', 'hex').toString('base64'));
    assert.equal(await checksumOf('crc32c', body), Buffer.from('e3069283', 'hex').toString('base64'));
    assert.equal(await checksumOf('crc64nvme', body), Buffer.from('ae8b14860a799888', 'hex').toString('base64'));
  });

  test('SHA-1 and SHA-256 of "123456789"', async () => {
    assert.equal(
      await checksumOf('sha1', body),
      Buffer.from('f7c3bc1d808e04732adf679965ccc34ca7ae3441', 'hex').toString('base64'),
    );
    assert.equal(
      await checksumOf('sha256', body),
      Buffer.from('15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225', 'hex').toString('base64'),
    );
  });

  test("the AWS SDK's presigned value AAAAAA== is the CRC32 of an empty body", async () => {
    assert.equal(await checksumOf('crc32', Buffer.alloc(0)), 'AAAAAA==');
  });
});

describe('verifying a PutObject or UploadPart body', () => {
  test('a matching checksum, in a header or in the query, is accepted and kept', async () => {
    const header = await verifyChecksums(ctx({ headers: { 'x-amz-checksum-crc32': 'y/Q5Jg==' } }), R2_PROFILE);
    assert.deepEqual(header, { stored: { algorithm: 'crc32', value: 'y/Q5Jg==' } });
    const query = new Map([
      ['x-amz-sdk-checksum-algorithm', 'CRC32C'],
      ['x-amz-checksum-crc32c', '4waSgw=='],
    ]);
    assert.deepEqual(await verifyChecksums(ctx({ query }), R2_PROFILE), {
      stored: { algorithm: 'crc32c', value: '4waSgw==' },
    });
  });

  test('the SDK default presigned URL (CRC32 of an empty body) refuses a real file: 400 BadDigest', async () => {
    const query = new Map([
      ['x-amz-sdk-checksum-algorithm', 'CRC32'],
      ['x-amz-checksum-crc32', 'AAAAAA=='],
    ]);
    assert.deepEqual(refusalOf(await verifyChecksums(ctx({ query }), R2_PROFILE)), {
      status: 400,
      code: 'BadDigest',
      message: 'The CRC32 you specified did not match the calculated checksum.',
    });
    // ... and accepts an empty one.
    assert.equal((await verifyChecksums(ctx({ query, body: Buffer.alloc(0) }), R2_PROFILE)).refusal, undefined);
  });

  test('the mismatch status and code come from the profile', async () => {
    const profile = { ...R2_PROFILE, checksumMismatch: { status: 400, code: 'InvalidDigest' } };
    const result = await verifyChecksums(ctx({ headers: { 'x-amz-checksum-sha256': `${'A'.repeat(43)}=` } }), profile);
    assert.equal(refusalOf(result).code, 'InvalidDigest');
  });

  test('malformed claims are InvalidRequest, not a mismatch', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ 'x-amz-checksum-crc32': 'AAAA' }, 'Value for x-amz-checksum-crc32 header is invalid.'],
      [{ 'x-amz-sdk-checksum-algorithm': 'MD4' }, 'Value for x-amz-sdk-checksum-algorithm header is invalid.'],
      [
        { 'x-amz-checksum-crc32': 'y/Q5Jg==', 'x-amz-checksum-crc32c': '4waSgw==' },
        'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
      ],
      [
        { 'x-amz-sdk-checksum-algorithm': 'CRC32' },
        'x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.',
      ],
    ];
    for (const [headers, message] of cases) {
      assert.deepEqual(refusalOf(await verifyChecksums(ctx({ headers }), R2_PROFILE)), {
        status: 400,
        code: 'InvalidRequest',
        message,
      });
    }
  });

  test('Content-MD5 is checked too', async () => {
    const md5 = (text: string) => Buffer.from(text, 'hex').toString('base64');
    const good = md5('25f9e794323b453885f5181f1b624d0b');
    assert.equal((await verifyChecksums(ctx({ headers: { 'content-md5': good } }), R2_PROFILE)).refusal, undefined);
    const bad = await verifyChecksums(ctx({ headers: { 'content-md5': md5('0'.repeat(32)) } }), R2_PROFILE);
    assert.deepEqual(refusalOf(bad), {
      status: 400,
      code: 'BadDigest',
      message: 'The Content-MD5 you specified did not match what we received.',
    });
    assert.equal(
      refusalOf(await verifyChecksums(ctx({ headers: { 'content-md5': 'xyz' } }), R2_PROFILE)).code,
      'InvalidDigest',
    );
  });

  test('an UploadPart with a SHA-256 checksum answers 501, whatever its value', async () => {
    const headers = { 'x-amz-checksum-sha256': await checksumOf('sha256', body) };
    assert.equal((await verifyChecksums(ctx({ headers }), R2_PROFILE)).refusal, undefined);
    assert.deepEqual(refusalOf(await verifyChecksums(ctx({ headers, part: true }), R2_PROFILE)), {
      status: 501,
      code: 'NotImplemented',
      message: `Header 'x-amz-checksum-sha256' with value '${headers['x-amz-checksum-sha256']}' not implemented`,
    });
  });
});
