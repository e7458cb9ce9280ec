// biome-ignore-all lint/suspicious/noTemplateCurlyInString: case files write ${name} references in plain strings; they are the subject here
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  capturedValues,
  checkCaptures,
  MissingCapture,
  readCapture,
  referencesIn,
  substitute,
} from '../../harness/cases/captures.ts';
import type { CaseRequest, Step } from '../../harness/cases/model.ts';
import { formatPath } from '../../harness/policy/model.ts';

const part: CaseRequest = {
  id: 'part-1',
  method: 'PUT',
  surface: 's3',
  key: 'big.bin',
  query: { partNumber: '1', uploadId: '${uploadId}' },
  headers: { 'X-Both': '${a}-${b}' },
  body: '<ETag>${etag1}</ETag>',
  expect: { response: { status: 200 } },
};

describe('substitution', () => {
  test('replaces every reference in query values, header values and the body, and nothing else', () => {
    const sent = substitute(
      part,
      new Map([
        ['uploadId', 'u-1'],
        ['a', 'A'],
        ['b', 'B'],
        ['etag1', '"abc"'],
      ]),
    );
    assert.deepEqual(sent.query, { partNumber: '1', uploadId: 'u-1' });
    assert.deepEqual(sent.headers, { 'X-Both': 'A-B' });
    assert.equal(sent.body, '<ETag>"abc"</ETag>');
    assert.equal(sent.key, 'big.bin');
    assert.deepEqual(part.query, { partNumber: '1', uploadId: '${uploadId}' }, 'the written request is unchanged');
  });

  test('a value nobody captured throws MissingCapture naming it and the field', () => {
    assert.throws(
      () => substitute(part, new Map([['uploadId', 'u-1']])),
      (error: unknown) =>
        error instanceof MissingCapture && error.name === 'a' && formatPath(error.field) === 'headers.X-Both',
    );
  });

  test('references are listed in order, invalid names included', () => {
    assert.deepEqual(referencesIn('${a} and ${b c} and $x and ${}'), ['a', 'b c', '']);
  });

  test('values are kept per case and bucket', () => {
    capturedValues('case', 'bucket-raw').set('uploadId', 'raw');
    assert.equal(capturedValues('case', 'bucket-raw').get('uploadId'), 'raw');
    assert.equal(capturedValues('case', 'bucket-chromium').get('uploadId'), undefined);
  });
});

describe('reading a capture', () => {
  test('from a header, as the client read it', () => {
    assert.deepEqual(readCapture({ header: 'etag' }, { headers: { etag: '"abc"' } }), { value: '"abc"' });
    assert.deepEqual(readCapture({ header: 'etag' }, { headers: {} }), { missing: 'no etag header' });
    assert.deepEqual(readCapture({ header: 'etag' }, { headers: { etag: ['"a"', '"b"'] } }), {
      missing: '2 etag headers',
    });
  });

  test('from the first element of that name in an XML body, entities decoded', () => {
    const body =
      '<?xml version="1.0"?><InitiateMultipartUploadResult><UploadId>a&amp;b</UploadId><UploadId>second</UploadId></InitiateMultipartUploadResult>';
    assert.deepEqual(readCapture({ xml: 'UploadId' }, { headers: {}, body }), { value: 'a&b' });
    assert.deepEqual(readCapture({ xml: 'UploadId' }, { headers: {}, body: '<Error/>' }), {
      missing: 'no <UploadId> element in the body',
    });
    assert.deepEqual(readCapture({ xml: 'UploadId' }, { headers: {} }), {
      missing: 'no <UploadId> element in the body',
    });
  });
});

describe('the loader check', () => {
  const request = (id: string, extra: Partial<CaseRequest>): CaseRequest => ({
    id,
    method: 'PUT',
    surface: 's3',
    key: 'k',
    expect: { response: { status: 200 } },
    ...extra,
  });
  const steps = (...requests: CaseRequest[]): Step[] =>
    requests.map((r, i) => ({ kind: 'request', request: r, path: ['steps', i, 'request'] }));
  const problems = (list: Step[]) => {
    const out: string[] = [];
    checkCaptures(list, (path, message) => out.push(`${formatPath(path)}: ${message}`));
    return out;
  };

  test('a flow that captures before it uses passes', () => {
    assert.deepEqual(
      problems(
        steps(
          request('create', { capture: { uploadId: { xml: 'UploadId' } } }),
          request('part', { query: { uploadId: '${uploadId}' }, capture: { etag: { header: 'etag' } } }),
          request('complete', { query: { uploadId: '${uploadId}' }, body: '<ETag>${etag}</ETag>' }),
        ),
      ),
      [],
    );
  });

  test('a use in the capturing request itself is not an earlier capture', () => {
    assert.deepEqual(
      problems(steps(request('self', { headers: { 'X-Id': '${id}' }, capture: { id: { header: 'x-id' } } }))),
      [
        'steps[0].request.headers.X-Id: uses ${id}, which no earlier request captures; steps[0].request.capture.id captures it, but only for the requests after it',
      ],
    );
  });
});
