import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluatePreconditions } from '../../harness/emulator/conditional.ts';
import { contentRange, parseRange } from '../../harness/emulator/ranges.ts';

describe('Range on GET (RFC 9110 §14)', () => {
  const size = 10;
  test('one range, open-ended or suffix, clipped to the object', () => {
    assert.deepEqual(parseRange('bytes=0-3', size), { kind: 'partial', start: 0, end: 3 });
    assert.deepEqual(parseRange('bytes=4-', size), { kind: 'partial', start: 4, end: 9 });
    assert.deepEqual(parseRange('bytes=8-100', size), { kind: 'partial', start: 8, end: 9 });
    assert.deepEqual(parseRange('bytes=-3', size), { kind: 'partial', start: 7, end: 9 });
    assert.deepEqual(parseRange('bytes=-30', size), { kind: 'partial', start: 0, end: 9 });
  });

  test('no byte of the object in the range: unsatisfiable, Content-Range bytes */size', () => {
    for (const header of ['bytes=10-', 'bytes=10-20', 'bytes=-0']) {
      assert.deepEqual(parseRange(header, size), { kind: 'unsatisfiable' }, header);
    }
    assert.deepEqual(parseRange('bytes=0-', 0), { kind: 'unsatisfiable' });
    assert.equal(contentRange({ kind: 'unsatisfiable' }, size), 'bytes */10');
    assert.equal(contentRange({ kind: 'partial', start: 2, end: 5 }, size), 'bytes 2-5/10');
  });

  test('anything but one valid range is ignored: the whole object', () => {
    for (const header of [undefined, 'bytes=5-2', 'bytes=0-1,4-5', 'items=0-1', 'bytes=-', 'bytes=a-b']) {
      assert.deepEqual(parseRange(header, size), { kind: 'whole' }, String(header));
    }
  });
});

describe('conditional GET (RFC 9110 §13.2.2)', () => {
  const object = { etag: '"5d41402abc4b2a76b9719d911017c592"', lastModified: new Date('2026-01-02T03:04:05.678Z') };
  const at = (headers: Record<string, string>) => evaluatePreconditions(headers, object);
  const before = 'Thu, 01 Jan 2026 00:00:00 GMT';
  const same = 'Fri, 02 Jan 2026 03:04:05 GMT';
  const after = 'Sat, 03 Jan 2026 00:00:00 GMT';

  test('If-None-Match: a matching tag (weakly, or *) → 304', () => {
    assert.equal(at({ 'if-none-match': object.etag }), 'not-modified');
    assert.equal(at({ 'if-none-match': `"x", W/${object.etag}` }), 'not-modified');
    assert.equal(at({ 'if-none-match': '*' }), 'not-modified');
    assert.equal(at({ 'if-none-match': '"other"' }), 'proceed');
  });

  test('If-Match: no strongly matching tag → 412; S3 takes an unquoted tag', () => {
    assert.equal(at({ 'if-match': '"other"' }), 'failed');
    assert.equal(at({ 'if-match': `W/${object.etag}` }), 'failed');
    assert.equal(at({ 'if-match': object.etag }), 'proceed');
    assert.equal(at({ 'if-match': object.etag.slice(1, -1) }), 'proceed');
  });

  test('dates compare in whole seconds', () => {
    assert.equal(at({ 'if-modified-since': same }), 'not-modified');
    assert.equal(at({ 'if-modified-since': before }), 'proceed');
    assert.equal(at({ 'if-unmodified-since': before }), 'failed');
    assert.equal(at({ 'if-unmodified-since': same }), 'proceed');
    assert.equal(at({ 'if-modified-since': 'not a date' }), 'proceed');
  });

  test('the tag conditions take precedence over the date ones (S3 documents the same pairs)', () => {
    // If-Match true + If-Unmodified-Since false → 200; If-None-Match false + If-Modified-Since true → 200.
    assert.equal(at({ 'if-match': object.etag, 'if-unmodified-since': before }), 'proceed');
    assert.equal(at({ 'if-none-match': '"other"', 'if-modified-since': after }), 'proceed');
    // If-None-Match matches + If-Modified-Since says modified → 304.
    assert.equal(at({ 'if-none-match': object.etag, 'if-modified-since': before }), 'not-modified');
    // A failed If-Match wins over a matching If-None-Match.
    assert.equal(at({ 'if-match': '"other"', 'if-none-match': object.etag }), 'failed');
  });
});
