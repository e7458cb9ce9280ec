import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { corsCheck, preflightCheck, readableHeaders, receivedHeaders } from '../../harness/fetch/cors-check.ts';
import { judge } from '../../harness/fetch/predict.ts';
import { decidePreflight, isSafelistedHeader } from '../../harness/fetch/preflight.ts';

describe('when a browser preflights (Fetch: CORS-safelisted method and request headers)', () => {
  test('GET, HEAD, POST without headers: no preflight', () => {
    for (const method of ['GET', 'HEAD', 'POST']) assert.equal(decidePreflight(method).needed, false, method);
  });
  test('PUT and DELETE: preflight', () => {
    for (const method of ['PUT', 'DELETE']) assert.equal(decidePreflight(method).needed, true, method);
  });
  test('Content-Type: only form types and text/plain are safelisted (parameters ignored)', () => {
    assert.equal(isSafelistedHeader('content-type', 'text/plain; charset=utf-8'), true);
    assert.equal(isSafelistedHeader('Content-Type', 'multipart/form-data; boundary=x'), true);
    assert.equal(isSafelistedHeader('content-type', 'application/json'), false);
    assert.equal(isSafelistedHeader('content-type', 'text/plain; x="a"'), false, 'a quote is an unsafe byte');
  });
  test('Range: a single bytes=N-[M] only', () => {
    assert.equal(isSafelistedHeader('range', 'bytes=0-99'), true);
    assert.equal(isSafelistedHeader('range', 'bytes=100-'), true);
    assert.equal(isSafelistedHeader('range', 'bytes=0-1,5-6'), false);
    assert.equal(isSafelistedHeader('range', 'bytes=-5'), false);
    // "parse a single range header value": a first byte after the last one is a failure; no whitespace.
    assert.equal(isSafelistedHeader('range', 'bytes=5-2'), false);
    assert.equal(isSafelistedHeader('range', 'bytes=5-5'), true);
    assert.equal(isSafelistedHeader('range', 'bytes= 0-5'), false);
    assert.equal(isSafelistedHeader('range', 'Bytes=0-5'), false);
  });
  test('Accept-Language / Content-Language: a restricted alphabet; any value over 128 bytes is unsafe', () => {
    assert.equal(isSafelistedHeader('accept-language', 'en-US,en;q=0.9'), true);
    assert.equal(isSafelistedHeader('content-language', 'en/US'), false);
    assert.equal(isSafelistedHeader('accept', 'a'.repeat(129)), false);
  });
  test('Access-Control-Request-Headers: unsafe names, lower-cased, sorted, once each', () => {
    const d = decidePreflight('GET', { 'X-B': '1', 'x-a': '2', 'Content-Type': 'application/json', Accept: '*/*' });
    assert.equal(d.needed, true);
    assert.deepEqual(d.requestHeaders, ['content-type', 'x-a', 'x-b']);
  });
});

const h = (pairs: Record<string, string | string[]>) =>
  receivedHeaders(
    Object.entries(pairs).flatMap(([n, v]) =>
      Array.isArray(v) ? v.map((x): [string, string] => [n, x]) : [[n, v] as [string, string]],
    ),
  );

describe('CORS check on a response', () => {
  const origin = 'https://a.example';
  test('missing, mismatched, several, wildcard with credentials', () => {
    assert.equal(corsCheck(h({}), origin, 'omit').reason, 'MissingAllowOriginHeader');
    assert.equal(
      corsCheck(h({ 'Access-Control-Allow-Origin': 'https://b.example' }), origin, 'omit').reason,
      'AllowOriginMismatch',
    );
    assert.equal(
      corsCheck(h({ 'Access-Control-Allow-Origin': `${origin}/` }), origin, 'omit').reason,
      'AllowOriginMismatch',
    );
    assert.equal(
      corsCheck(h({ 'Access-Control-Allow-Origin': [origin, origin] }), origin, 'omit').reason,
      'MultipleAllowOriginValues',
    );
    assert.equal(
      corsCheck(h({ 'Access-Control-Allow-Origin': '*' }), origin, 'include').reason,
      'WildcardOriginNotAllowed',
    );
  });
  test('wildcard without credentials, echo with credentials needs Allow-Credentials: true', () => {
    assert.equal(corsCheck(h({ 'Access-Control-Allow-Origin': '*' }), origin, 'same-origin').ok, true);
    assert.equal(
      corsCheck(h({ 'Access-Control-Allow-Origin': origin }), origin, 'include').reason,
      'InvalidAllowCredentials',
    );
    assert.equal(
      corsCheck(
        h({ 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true' }),
        origin,
        'include',
      ).ok,
      true,
    );
  });
  test('preflight reasons carry the Preflight prefix', () => {
    assert.equal(corsCheck(h({}), origin, 'omit', true).reason, 'PreflightMissingAllowOriginHeader');
  });
});

describe('preflight check', () => {
  const req = {
    origin: 'https://a.example',
    method: 'PUT',
    requestHeaders: ['content-type'],
    credentials: 'same-origin' as const,
  };
  const allow = {
    'Access-Control-Allow-Origin': 'https://a.example',
    'Access-Control-Allow-Methods': 'GET, PUT',
    'Access-Control-Allow-Headers': 'content-type',
  };
  test('the CORS check comes before the status, as Chromium reports it', () => {
    assert.equal(preflightCheck(403, h(allow), req).reason, 'PreflightInvalidStatus');
    assert.equal(preflightCheck(403, h({}), req).reason, 'PreflightMissingAllowOriginHeader');
  });
  test('passes with origin, method and headers allowed; default max age 5 s', () => {
    const outcome = preflightCheck(200, h(allow), req);
    assert.deepEqual(outcome, { ok: true, maxAge: 5 });
    assert.equal(preflightCheck(204, h({ ...allow, 'Access-Control-Max-Age': '600' }), req).maxAge, 600);
  });
  test('method and header refusals', () => {
    assert.equal(
      preflightCheck(200, h({ ...allow, 'Access-Control-Allow-Methods': 'GET' }), req).reason,
      'MethodDisallowedByPreflightResponse',
    );
    assert.equal(
      preflightCheck(200, h({ ...allow, 'Access-Control-Allow-Methods': 'put' }), req).reason,
      'MethodDisallowedByPreflightResponse',
    );
    assert.equal(
      preflightCheck(200, h({ ...allow, 'Access-Control-Allow-Headers': 'x-other' }), req).reason,
      'HeaderDisallowedByPreflightResponse',
    );
  });
  test("'*' allows methods and headers only without credentials, and never authorization", () => {
    const star = {
      'Access-Control-Allow-Origin': 'https://a.example',
      'Access-Control-Allow-Methods': '*',
      'Access-Control-Allow-Headers': '*',
    };
    assert.equal(preflightCheck(200, h(star), req).ok, true);
    assert.equal(
      preflightCheck(200, h(star), { ...req, requestHeaders: ['authorization'] }).reason,
      'HeaderDisallowedByPreflightResponse',
    );
    const credentialed = { ...star, 'Access-Control-Allow-Credentials': 'true' };
    assert.equal(
      preflightCheck(200, h(credentialed), { ...req, credentials: 'include' }).reason,
      'MethodDisallowedByPreflightResponse',
    );
  });
});

describe('readable response headers', () => {
  test('safelisted ones, plus exposed ones', () => {
    const headers = h({
      'Content-Type': 'text/plain',
      ETag: '"x"',
      'Content-Length': '1',
      'Access-Control-Expose-Headers': 'ETag',
    });
    assert.deepEqual(readableHeaders(headers, 'omit').sort(), ['content-length', 'content-type', 'etag']);
    const hidden = h({ 'Content-Type': 'text/plain', ETag: '"x"' });
    assert.deepEqual(readableHeaders(hidden, 'omit'), ['content-type']);
  });
  test("'*' exposes all but Set-Cookie, only without credentials", () => {
    const headers = h({ ETag: '"x"', 'Set-Cookie': 'a=b', 'Access-Control-Expose-Headers': '*' });
    assert.deepEqual(readableHeaders(headers, 'omit').sort(), ['access-control-expose-headers', 'etag']);
    assert.deepEqual(readableHeaders(headers, 'include'), []);
  });
});

describe('judge: the verdict from the answers a browser got', () => {
  const view = {
    origin: 'https://a.example',
    method: 'PUT',
    requestHeaders: ['content-type'],
    preflighted: true,
    credentials: 'omit' as const,
  };
  const allowOrigin: [string, string] = ['Access-Control-Allow-Origin', 'https://a.example'];
  test('a failed preflight blocks at the preflight, before the response is looked at', () => {
    const verdict = judge(view, { preflight: { status: 403, headers: [] }, actual: { headers: [allowOrigin] } });
    assert.deepEqual(
      [verdict.outcome, verdict.stage, verdict.reason],
      ['blocked', 'preflight', 'PreflightMissingAllowOriginHeader'],
    );
  });
  test('a passed preflight and a response without Allow-Origin block at the response', () => {
    const preflight = {
      status: 200,
      headers: [
        allowOrigin,
        ['Access-Control-Allow-Methods', 'PUT'],
        ['Access-Control-Allow-Headers', 'content-type'],
      ] as [string, string][],
    };
    const verdict = judge(view, { preflight, actual: { status: 200, headers: [] } });
    assert.deepEqual(
      [verdict.outcome, verdict.stage, verdict.reason],
      ['blocked', 'response', 'MissingAllowOriginHeader'],
    );
    const allowed = judge(view, {
      preflight,
      actual: { status: 200, headers: [allowOrigin, ['ETag', '"x"'], ['Access-Control-Expose-Headers', 'ETag']] },
    });
    assert.deepEqual([allowed.outcome, allowed.status, allowed.readable], ['allowed', 200, ['etag']]);
  });
  test('without a preflight only the response counts', () => {
    const verdict = judge(
      { ...view, method: 'GET', requestHeaders: [], preflighted: false },
      { actual: { status: 200, headers: [allowOrigin] } },
    );
    assert.equal(verdict.outcome, 'allowed');
  });
});
