import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactBody, redactHeader, redactUrl } from '../../harness/check/redact.ts';

const SIGNED =
  'https://acc.r2.cloudflarestorage.com/b/k.bin?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD' +
  '&X-Amz-Credential=AKIDEXAMPLE%2F20261129%2Fauto%2Fs3%2Faws4_request&X-Amz-Date=20261129T000000Z&X-Amz-Expires=600' +
  '&X-Amz-Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef&X-Amz-SignedHeaders=host' +
  '&x-amz-checksum-crc32=AAAAAA%3D%3D&x-amz-sdk-checksum-algorithm=CRC32&x-id=PutObject';

test('a presigned query is redacted; only the parameters that carry no secret are kept, as written', () => {
  assert.equal(
    redactUrl(SIGNED),
    'https://acc.r2.cloudflarestorage.com/b/k.bin?[presigned query redacted]' +
      '&x-amz-checksum-crc32=AAAAAA%3D%3D&x-amz-sdk-checksum-algorithm=CRC32&x-id=PutObject',
  );
  const part = 'https://h/b/k?partNumber=2&uploadId=abc&X-Amz-Security-Token=tok&X-Amz-Signature=00';
  assert.equal(redactUrl(part), 'https://h/b/k?[presigned query redacted]&partNumber=2&uploadId=abc');
  for (const secret of ['AKIDEXAMPLE', 'X-Amz-Signature', 'X-Amz-Credential', 'X-Amz-Date', 'tok'])
    assert.ok(!redactUrl(SIGNED + part).includes(secret), secret);
});

test('a URL without SigV4 parameters is left as it is', () => {
  assert.equal(redactUrl('https://pub.r2.dev/k?uploads'), 'https://pub.r2.dev/k?uploads');
  assert.equal(redactUrl('https://pub.r2.dev/k'), 'https://pub.r2.dev/k');
});

test('secret headers and what error bodies echo are redacted', () => {
  assert.equal(redactHeader('Authorization', 'AWS4-HMAC-SHA256 Credential=AKID/…'), '[redacted]');
  assert.equal(redactHeader('content-type', 'text/plain'), 'text/plain');
  assert.equal(
    redactBody('<Error><AWSAccessKeyId>AKID</AWSAccessKeyId><Url>?X-Amz-Signature=abc&x=1</Url></Error>'),
    '<Error><AWSAccessKeyId>[redacted]</AWSAccessKeyId><Url>?X-Amz-Signature=[redacted]&x=1</Url></Error>',
  );
});
