import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { originProblem, restRejection, s3Rejection, validatePolicy } from '../../harness/policy/validate.ts';

describe('AllowedOrigins values as R2 judges them', () => {
  const accepted = [
    '*',
    'https://example.com',
    'http://localhost:3000',
    'https://*.example.com',
    'https://static.example.com',
    'http://[::1]:8080',
    'chrome-extension://abcdefghijklmnop',
  ];
  const refused: [string, RegExp][] = [
    ['https://static.example.com/', /ends with '\/'/],
    ['https://static.example.com/fonts/Calibri.woff2', /has a path/],
    ['https://example.com?x=1', /has a path, query or fragment/],
    ['http://localhost:*', /wildcard port/],
    ['https://*.*.example.com', /2 '\*' wildcards/],
    ['example.com', /not scheme:\/\/host/],
    ['https://', /no host/],
    ['https://example.com:0', /invalid port/],
    ['https://example.com:99999', /invalid port/],
    ['https://exa mple.com', /white space/],
  ];
  for (const origin of accepted) test(`accepts ${origin}`, () => assert.equal(originProblem(origin), undefined));
  for (const [origin, why] of refused) test(`refuses ${origin}`, () => assert.match(originProblem(origin) ?? '', why));
});

describe('rule checks and the errors R2 answers', () => {
  test('methods outside GET PUT POST DELETE HEAD are InvalidRequest on S3, 10040 on REST', () => {
    const problems = validatePolicy({ rules: [{ allowedOrigins: ['*'], allowedMethods: ['OPTIONS', '*'] }] });
    assert.equal(problems.length, 2);
    assert.deepEqual(s3Rejection(problems).code, 'InvalidRequest');
    assert.deepEqual(restRejection(problems).code, 10040);
  });

  test('a bad origin is MalformedXML on S3 [seen]', () => {
    const problems = validatePolicy({ rules: [{ allowedOrigins: ['http://localhost:*'], allowedMethods: ['GET'] }] });
    assert.equal(s3Rejection(problems).code, 'MalformedXML');
  });

  test('max age 0…86400, empty header names, empty lists, rule count', () => {
    const messages = validatePolicy({
      rules: [
        { allowedOrigins: [], allowedMethods: [], allowedHeaders: [' '], exposeHeaders: [''], maxAgeSeconds: 86_401 },
        { allowedOrigins: ['*'], allowedMethods: ['GET'], allowedHeaders: ['x-*-*'], maxAgeSeconds: -1 },
      ],
    }).map((p) => `${p.rule}.${p.field}${p.item === undefined ? '' : `[${p.item}]`}: ${p.message}`);
    assert.deepEqual(messages, [
      '0.allowedOrigins: needs at least one origin',
      '0.allowedMethods: needs at least one method',
      '0.allowedHeaders[0]: header name is empty',
      '0.exposeHeaders[0]: header name is empty',
      '0.maxAgeSeconds: max age 86401 is outside 0…86400 seconds',
      "1.allowedHeaders[0]: 'x-*-*' has more than one '*'",
      '1.maxAgeSeconds: max age -1 is outside 0…86400 seconds',
    ]);
    assert.equal(
      validatePolicy({ rules: [{ allowedOrigins: ['*'], allowedMethods: ['GET'], maxAgeSeconds: 86_400 }] }).length,
      0,
    );
    const many = { rules: Array.from({ length: 101 }, () => ({ allowedOrigins: ['*'], allowedMethods: ['GET'] })) };
    assert.match(validatePolicy(many)[0].message, /at most 100/);
  });
});
