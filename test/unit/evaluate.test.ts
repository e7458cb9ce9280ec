import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type Evaluation,
  evaluateActual,
  evaluatePreflight,
  parseRequestHeaders,
  wildcardMatch,
} from '../../harness/cors/evaluate.ts';
import { type CorsProfile, R2_PROFILE } from '../../harness/cors/profile.ts';
import type { CorsPolicy, CorsRule } from '../../harness/policy/model.ts';

const policy = (...rules: CorsRule[]): CorsPolicy => ({ rules });
const header = (e: Evaluation, name: string) => e.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];

const GET_FROM_A: CorsRule = { allowedOrigins: ['https://a.example'], allowedMethods: ['GET'] };

describe('wildcard patterns (s3-cors.md: one *, anchored, may match empty, dot literal)', () => {
  const table: [string, string, boolean][] = [
    ['https://*.example.com', 'https://app.example.com', true],
    ['https://*.example.com', 'https://a.b.example.com', true],
    ['https://*.example.com', 'https://example.com', false],
    ['https://*.example.com', 'https://xexample.com', false],
    ['https://*.example.com', 'http://app.example.com', false],
    ['https://*.example.com', 'https://app.example.com.evil.net', false],
    ['start*end', 'startend', true],
    ['start*end', 'start-middle-end', true],
    ['start*end', 'startenx', false],
    ['*', 'null', true],
    ['*', '', true],
    ['https://example.com', 'https://example.com', true],
    ['https://example.com', 'https://Example.com', false],
    ['https://example.com', 'https://example.com:443', false],
    ['http://localhost:3000', 'http://localhost:3001', false],
  ];
  for (const [pattern, value, expected] of table) {
    test(`${pattern} ${expected ? 'matches' : 'does not match'} ${value || '(empty)'}`, () => {
      assert.equal(wildcardMatch(pattern, value), expected);
    });
  }
});

describe('Access-Control-Request-Headers parsing', () => {
  test('lower-cases, trims, keeps request order, drops empties', () => {
    assert.deepEqual(parseRequestHeaders(' X-B ,x-a,, Content-Type'), ['x-b', 'x-a', 'content-type']);
  });
  test('absent or empty is no headers', () => {
    assert.deepEqual(parseRequestHeaders(undefined), []);
    assert.deepEqual(parseRequestHeaders(''), []);
  });
});

describe('preflight', () => {
  test('no Origin: 400, no CORS headers (R2 public endpoints since 2024-02-20; AWS)', () => {
    const e = evaluatePreflight(policy(GET_FROM_A), { requestMethod: 'GET' });
    assert.equal(e.outcome, 'not-cors');
    assert.equal(e.status, 400);
    assert.deepEqual(e.headers, []);
  });

  test('no policy: 403 "CORS is not enabled for this bucket", no CORS headers', () => {
    const e = evaluatePreflight(null, { origin: 'https://a.example', requestMethod: 'GET' });
    assert.equal(e.outcome, 'no-policy');
    assert.equal(e.status, 403);
    assert.match(e.rejection?.message ?? '', /CORS is not enabled for this bucket/);
    assert.deepEqual(e.headers, []);
  });

  test('no Access-Control-Request-Method: 400', () => {
    const e = evaluatePreflight(policy(GET_FROM_A), { origin: 'https://a.example' });
    assert.equal(e.outcome, 'bad-preflight');
    assert.equal(e.status, 400);
  });

  test('matched named origin: 200, origin echoed with credentials, all rule methods, Vary', () => {
    const e = evaluatePreflight(policy({ allowedOrigins: ['https://a.example'], allowedMethods: ['GET', 'PUT'] }), {
      origin: 'https://a.example',
      requestMethod: 'PUT',
    });
    assert.equal(e.outcome, 'matched');
    assert.equal(e.status, 200);
    assert.deepEqual(e.headers, [
      ['Access-Control-Allow-Origin', 'https://a.example'],
      ['Access-Control-Allow-Credentials', 'true'],
      ['Access-Control-Allow-Methods', 'GET, PUT'],
      ['Vary', 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method'],
    ]);
  });

  test("a '*' rule answers Allow-Origin * and no credentials header", () => {
    const e = evaluatePreflight(policy({ allowedOrigins: ['*'], allowedMethods: ['GET'] }), {
      origin: 'https://anyone.example',
      requestMethod: 'GET',
    });
    assert.equal(header(e, 'access-control-allow-origin'), '*');
    assert.equal(header(e, 'access-control-allow-credentials'), undefined);
    assert.ok(e.assumptions.includes('wildcardAllowOrigin'));
  });

  test("'*' matches the opaque origin null", () => {
    const e = evaluatePreflight(policy({ allowedOrigins: ['*'], allowedMethods: ['GET'] }), {
      origin: 'null',
      requestMethod: 'GET',
    });
    assert.equal(e.outcome, 'matched');
  });

  test('a wildcard origin entry that is not bare * echoes the origin', () => {
    const e = evaluatePreflight(policy({ allowedOrigins: ['https://*.a.example'], allowedMethods: ['GET'] }), {
      origin: 'https://x.a.example',
      requestMethod: 'GET',
    });
    assert.equal(header(e, 'access-control-allow-origin'), 'https://x.a.example');
    assert.equal(header(e, 'access-control-allow-credentials'), 'true');
  });

  test('requested headers are echoed lower-cased in request order, matched case-insensitively', () => {
    const e = evaluatePreflight(
      policy({
        allowedOrigins: ['https://a.example'],
        allowedMethods: ['PUT'],
        allowedHeaders: ['Content-Type', 'X-B', 'x-a'],
      }),
      { origin: 'https://a.example', requestMethod: 'PUT', requestHeaders: 'X-B, content-type,X-A' },
    );
    assert.equal(e.outcome, 'matched');
    assert.equal(header(e, 'access-control-allow-headers'), 'x-b, content-type, x-a');
  });

  test("AllowedHeaders '*' allows any header and still echoes the requested names", () => {
    const e = evaluatePreflight(
      policy({ allowedOrigins: ['https://a.example'], allowedMethods: ['PUT'], allowedHeaders: ['*'] }),
      { origin: 'https://a.example', requestMethod: 'PUT', requestHeaders: 'x-amz-meta-a,authorization' },
    );
    assert.equal(header(e, 'access-control-allow-headers'), 'x-amz-meta-a, authorization');
  });

  test('a header pattern with one * matches a prefix family', () => {
    const rule: CorsRule = {
      allowedOrigins: ['https://a.example'],
      allowedMethods: ['PUT'],
      allowedHeaders: ['x-amz-meta-*'],
    };
    const ok = evaluatePreflight(policy(rule), {
      origin: 'https://a.example',
      requestMethod: 'PUT',
      requestHeaders: 'X-Amz-Meta-Owner',
    });
    assert.equal(ok.outcome, 'matched');
    const no = evaluatePreflight(policy(rule), {
      origin: 'https://a.example',
      requestMethod: 'PUT',
      requestHeaders: 'x-amz-acl',
    });
    assert.equal(no.outcome, 'unmatched');
  });

  test('no Allow-Headers when no headers were requested', () => {
    const e = evaluatePreflight(
      policy({ allowedOrigins: ['https://a.example'], allowedMethods: ['DELETE'], allowedHeaders: ['x-a'] }),
      { origin: 'https://a.example', requestMethod: 'DELETE' },
    );
    assert.equal(header(e, 'access-control-allow-headers'), undefined);
  });

  test('unmatched: 403 AccessForbidden, no CORS headers, every reason of every rule', () => {
    const e = evaluatePreflight(
      policy(
        { allowedOrigins: ['https://a.example'], allowedMethods: ['GET'] },
        { allowedOrigins: ['https://b.example'], allowedMethods: ['PUT'], allowedHeaders: ['x-ok'] },
      ),
      { origin: 'https://b.example', requestMethod: 'PUT', requestHeaders: 'x-ok,x-bad' },
    );
    assert.equal(e.outcome, 'unmatched');
    assert.equal(e.status, 403);
    assert.equal(e.rejection?.code, 'AccessForbidden');
    assert.match(e.rejection?.message ?? '', /^CORSResponse: This CORS request is not allowed\./);
    assert.deepEqual(e.headers, []);
    assert.deepEqual(
      e.rules.map((r) => r.misses.map((m) => `${m.field}:${m.value}`)),
      [['origin:https://b.example', 'method:PUT', 'header:x-ok', 'header:x-bad'], ['header:x-bad']],
    );
  });

  test('methods compare case-sensitively', () => {
    const e = evaluatePreflight(policy({ allowedOrigins: ['*'], allowedMethods: ['PUT'] }), {
      origin: 'https://a.example',
      requestMethod: 'put',
    });
    assert.equal(e.outcome, 'unmatched');
  });

  test('origins compare exactly: scheme, host case and port all count', () => {
    for (const origin of ['http://a.example', 'https://A.example', 'https://a.example:8443']) {
      const e = evaluatePreflight(policy(GET_FROM_A), { origin, requestMethod: 'GET' });
      assert.equal(e.outcome, 'unmatched', origin);
    }
  });

  test('first matching rule wins; later rules are not merged in', () => {
    const e = evaluatePreflight(
      policy(
        { id: 'first', allowedOrigins: ['https://a.example'], allowedMethods: ['GET'], maxAgeSeconds: 10 },
        {
          id: 'second',
          allowedOrigins: ['*'],
          allowedMethods: ['GET', 'PUT'],
          exposeHeaders: ['ETag'],
          maxAgeSeconds: 99,
        },
      ),
      { origin: 'https://a.example', requestMethod: 'GET' },
    );
    assert.equal(e.matched?.rule.id, 'first');
    assert.equal(header(e, 'access-control-allow-methods'), 'GET');
    assert.equal(header(e, 'access-control-max-age'), '10');
    assert.equal(header(e, 'access-control-expose-headers'), undefined);
    assert.equal(e.rules[1].misses.length, 0, 'the second rule matches too; it just does not answer');
  });

  test('a later rule answers when earlier ones do not match [seen]', () => {
    const e = evaluatePreflight(
      policy(GET_FROM_A, { id: 'uploads', allowedOrigins: ['https://a.example'], allowedMethods: ['PUT'] }),
      { origin: 'https://a.example', requestMethod: 'PUT' },
    );
    assert.equal(e.matched?.rule.id, 'uploads');
  });

  test('max-age and expose-headers come from the rule, joined by ", "', () => {
    const e = evaluatePreflight(
      policy({
        allowedOrigins: ['https://a.example'],
        allowedMethods: ['GET'],
        exposeHeaders: ['ETag', 'Content-Encoding'],
        maxAgeSeconds: 0,
      }),
      { origin: 'https://a.example', requestMethod: 'GET' },
    );
    assert.equal(header(e, 'access-control-expose-headers'), 'ETag, Content-Encoding');
    assert.equal(header(e, 'access-control-max-age'), '0');
  });

  test('an empty ExposeHeaders sends no Expose-Headers (R2 changelog 2022-09-28)', () => {
    const e = evaluatePreflight(policy({ ...GET_FROM_A, exposeHeaders: [] }), {
      origin: 'https://a.example',
      requestMethod: 'GET',
    });
    assert.equal(header(e, 'access-control-expose-headers'), undefined);
  });
});

describe('actual request', () => {
  test('no Origin: no CORS headers, even under a * rule', () => {
    const e = evaluateActual(policy({ allowedOrigins: ['*'], allowedMethods: ['GET'] }), { method: 'GET' });
    assert.equal(e.outcome, 'not-cors');
    assert.deepEqual(e.headers, []);
  });

  test('no policy: no CORS headers', () => {
    assert.deepEqual(evaluateActual(null, { origin: 'https://a.example', method: 'GET' }).headers, []);
  });

  test('unmatched origin: no CORS headers and no Vary (the normal response goes out)', () => {
    const e = evaluateActual(policy(GET_FROM_A), { origin: 'https://b.example', method: 'GET' });
    assert.equal(e.outcome, 'unmatched');
    assert.deepEqual(e.headers, []);
    assert.equal(e.status, undefined, 'an actual request keeps its normal status');
  });

  test('matched: allow-origin, methods, expose, max-age, vary; no allow-headers', () => {
    const e = evaluateActual(
      policy({
        allowedOrigins: ['https://a.example'],
        allowedMethods: ['PUT'],
        allowedHeaders: ['content-type'],
        exposeHeaders: ['ETag'],
        maxAgeSeconds: 3600,
      }),
      { origin: 'https://a.example', method: 'PUT' },
    );
    assert.deepEqual(e.headers, [
      ['Access-Control-Allow-Origin', 'https://a.example'],
      ['Access-Control-Allow-Credentials', 'true'],
      ['Access-Control-Allow-Methods', 'PUT'],
      ['Access-Control-Expose-Headers', 'ETag'],
      ['Access-Control-Max-Age', '3600'],
      ['Vary', 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method'],
    ]);
  });

  test('HEAD is matched like any method (CORS headers on HeadObject [doc])', () => {
    const rule: CorsRule = { allowedOrigins: ['https://a.example'], allowedMethods: ['HEAD'] };
    assert.equal(evaluateActual(policy(rule), { origin: 'https://a.example', method: 'HEAD' }).outcome, 'matched');
    assert.equal(evaluateActual(policy(rule), { origin: 'https://a.example', method: 'GET' }).outcome, 'unmatched');
  });
});

describe('profile: every [open] choice is a switch, not a rewrite', () => {
  const flipped: CorsProfile = {
    ...R2_PROFILE,
    wildcardAllowOrigin: 'echo',
    allowCredentials: 'never',
    allowMethods: 'requested',
    allowHeaders: 'rule',
    varyOnMatch: undefined,
    matchedPreflightStatus: 204,
  };
  test('the same policy answers differently under a flipped profile', () => {
    const e = evaluatePreflight(
      policy({ allowedOrigins: ['*'], allowedMethods: ['GET', 'PUT'], allowedHeaders: ['Content-Type'] }),
      { origin: 'https://a.example', requestMethod: 'PUT', requestHeaders: 'content-type' },
      flipped,
    );
    assert.equal(e.status, 204);
    assert.deepEqual(e.headers, [
      ['Access-Control-Allow-Origin', 'https://a.example'],
      ['Access-Control-Allow-Methods', 'PUT'],
      ['Access-Control-Allow-Headers', 'Content-Type'],
    ]);
  });
  test('every profile choice the default makes has a reason', () => {
    const open: (keyof CorsProfile)[] = [
      'wildcardAllowOrigin',
      'allowCredentials',
      'allowMethods',
      'allowHeaders',
      'listSeparator',
      'exposeOnPreflight',
      'maxAgeOnActual',
      'varyOnMatch',
      'ruleChoice',
      'matchedPreflightStatus',
      'unmatchedPreflight',
      'noPolicyPreflight',
      'preflightWithoutMethod',
      'corsOnErrors',
      'corsOnNotModified',
      'headerPatterns',
      'presignedPreflight',
      'corsOnPresignedPreflightRefusal',
      'checksumMismatch',
      'partChecksumsNotImplemented',
      'unsatisfiableRange',
    ];
    for (const key of open) assert.ok(R2_PROFILE.why[key], key);
  });
});

describe('AllowedHeaders entries with a * inside (x-amz-*)', () => {
  const amz = policy({ ...GET_FROM_A, allowedMethods: ['PUT'], allowedHeaders: ['Content-Type', 'x-amz-*'] });
  const ask = (headers: string, profile: CorsProfile = R2_PROFILE) =>
    evaluatePreflight(amz, { origin: 'https://a.example', requestMethod: 'PUT', requestHeaders: headers }, profile);

  test('as on AWS, the * matches any run of characters, and the answer says it rests on that choice', () => {
    const e = ask('content-type,x-amz-meta-owner,x-amz-checksum-crc32');
    assert.equal(e.outcome, 'matched');
    assert.equal(header(e, 'Access-Control-Allow-Headers'), 'content-type, x-amz-meta-owner, x-amz-checksum-crc32');
    assert.ok(e.assumptions.includes('headerPatterns'));
    const other = ask('x-custom');
    assert.equal(other.outcome, 'unmatched');
    assert.deepEqual(other.rules[0].misses, [
      { field: 'header', value: 'x-custom', allowed: ['Content-Type', 'x-amz-*'] },
    ]);
    assert.ok(other.assumptions.includes('headerPatterns'));
  });

  test('with headerPatterns bare-star-only, x-amz-* is a literal name and the bare * still matches all', () => {
    const literal: CorsProfile = { ...R2_PROFILE, headerPatterns: 'bare-star-only' };
    assert.equal(ask('x-amz-meta-owner', literal).outcome, 'unmatched');
    assert.equal(ask('x-amz-*', literal).outcome, 'matched');
    const star = policy({ ...GET_FROM_A, allowedMethods: ['PUT'], allowedHeaders: ['*'] });
    const e = evaluatePreflight(
      star,
      { origin: 'https://a.example', requestMethod: 'PUT', requestHeaders: 'x-amz-meta-owner' },
      literal,
    );
    assert.equal(e.outcome, 'matched');
    assert.ok(!e.assumptions.includes('headerPatterns'), 'a bare * rests on no pattern choice');
  });
});
