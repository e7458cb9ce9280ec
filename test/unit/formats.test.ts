import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  detectFormat,
  LossyConversionError,
  parsePolicyData,
  parsePolicyText,
  pathInFormat,
  serializePolicy,
} from '../../harness/policy/formats.ts';
import { atPath, type CorsPolicy, formatPath, POLICY_FORMATS } from '../../harness/policy/model.ts';

function parsed(text: string) {
  const result = parsePolicyText(text);
  assert.ok(result.ok, `expected a valid policy, got ${JSON.stringify(!result.ok && result.problems)}`);
  return result;
}

const FULL: CorsPolicy = {
  rules: [
    {
      allowedOrigins: ['https://example.com', 'https://*.example.com'],
      allowedMethods: ['GET', 'PUT', 'HEAD'],
      allowedHeaders: ['Content-Type', 'x-amz-meta-*'],
      exposeHeaders: ['ETag', 'Content-Length'],
      maxAgeSeconds: 3600,
    },
    { allowedOrigins: ['*'], allowedMethods: ['GET'] },
    { allowedOrigins: ['http://localhost:3000'], allowedMethods: ['POST'], allowedHeaders: [], maxAgeSeconds: 0 },
  ],
};
const NAMED: CorsPolicy = { rules: FULL.rules.map((r, i) => ({ id: `rule-${i}`, ...r })) };

describe('round trips', () => {
  for (const format of POLICY_FORMATS) {
    const source = format === 'dashboard' ? FULL : NAMED;
    test(`${format}: write → read gives the same policy, and writing it again the same text`, () => {
      const text = serializePolicy(source, format);
      const back = parsed(text);
      assert.equal(back.format, format);
      if (format === 'xml') {
        // XML cannot tell an empty list from an absent one: zero <AllowedHeader> elements.
        const { allowedHeaders: _, ...rest } = source.rules[2];
        assert.deepEqual(back.policy, { rules: [source.rules[0], source.rules[1], rest] });
      } else {
        assert.deepEqual(back.policy, source);
      }
      assert.equal(serializePolicy(back.policy, format), text);
    });
  }

  test('dashboard → rules → xml → dashboard keeps every value', () => {
    const rules = parsed(serializePolicy(FULL, 'rules')).policy;
    const xml = parsed(serializePolicy(rules, 'xml')).policy;
    const dashboard = parsed(serializePolicy(xml, 'dashboard')).policy;
    assert.deepEqual(dashboard.rules[0], FULL.rules[0]);
    assert.deepEqual(dashboard.rules[1], FULL.rules[1]);
  });

  test('the dashboard format refuses rule ids rather than dropping them silently', () => {
    assert.throws(() => serializePolicy(NAMED, 'dashboard'), LossyConversionError);
    const dropped = parsed(serializePolicy(NAMED, 'dashboard', { dropIds: true })).policy;
    assert.equal(dropped.rules[0].id, undefined);
  });
});

describe('reading R2 documentation examples', () => {
  test("the CORS page's presigned-upload dashboard policy", () => {
    const result = parsed(`[
      { "AllowedOrigins": ["https://example.com"], "AllowedMethods": ["PUT"], "AllowedHeaders": ["Content-Type"],
        "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3600 } ]`);
    assert.equal(result.format, 'dashboard');
    assert.deepEqual(result.policy.rules[0], {
      allowedOrigins: ['https://example.com'],
      allowedMethods: ['PUT'],
      allowedHeaders: ['Content-Type'],
      exposeHeaders: ['ETag'],
      maxAgeSeconds: 3600,
    });
  });

  test("the CORS page's wrangler file", () => {
    const result = parsed('{ "rules": [ { "allowed": { "origins": ["https://example.com"], "methods": ["GET"] } } ] }');
    assert.equal(result.format, 'rules');
    assert.deepEqual(result.policy, { rules: [{ allowedOrigins: ['https://example.com'], allowedMethods: ['GET'] }] });
  });

  test('S3 XML with and without the namespace, with a declaration', () => {
    for (const open of ['<CORSConfiguration>', '<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">']) {
      const result = parsed(
        `<?xml version="1.0" encoding="UTF-8"?>\n${open}<CORSRule><ID>r</ID><AllowedOrigin>https://a.example</AllowedOrigin>` +
          '<AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>5</MaxAgeSeconds></CORSRule></CORSConfiguration>',
      );
      assert.deepEqual(result.policy.rules[0], {
        id: 'r',
        allowedOrigins: ['https://a.example'],
        allowedMethods: ['GET'],
        maxAgeSeconds: 5,
      });
    }
  });
});

describe('refusals, each with a path in the format it came from', () => {
  const problemsOf = (text: string) => {
    const result = parsePolicyText(text);
    assert.equal(result.ok, false);
    return result.ok ? [] : result.problems.map((p) => `${atPath(p.path, p.message)} [${p.kind}]`);
  };

  test('unknown keys (R2 refuses them since 2022-11-30)', () => {
    assert.deepEqual(problemsOf('[{"AllowedOrigins":["*"],"AllowedMethods":["GET"],"AllowedHeader":["x"]}]'), [
      "[0].AllowedHeader: unknown key 'AllowedHeader' (did you mean 'AllowedHeaders'?) [malformed]",
    ]);
    assert.deepEqual(
      problemsOf(
        '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><Foo/></CORSRule></CORSConfiguration>',
      ),
      ["CORSConfiguration.CORSRule[0].Foo: unknown key 'Foo' [malformed]"],
    );
  });

  test('PascalCase keys in the REST format (R2 answers 10040)', () => {
    assert.deepEqual(problemsOf('{"rules":[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]}'), [
      "rules[0]: missing required key 'allowed' [malformed]",
      "rules[0].AllowedOrigins: unknown key 'AllowedOrigins' [malformed]",
      "rules[0].AllowedMethods: unknown key 'AllowedMethods' [malformed]",
    ]);
  });

  test('a dashboard array wrapped in CORSRules is refused [seen]', () => {
    assert.deepEqual(problemsOf('{"CORSRules":[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]}'), [
      "missing required key 'rules' [malformed]",
      "CORSRules: unknown key 'CORSRules' [malformed]",
    ]);
  });

  test('values: paths name the field in each format', () => {
    const bad = { rule: 0, field: 'allowedOrigins' as const, item: 1 };
    assert.equal(formatPath(pathInFormat('dashboard', bad)), '[0].AllowedOrigins[1]');
    assert.equal(formatPath(pathInFormat('rules', bad)), 'rules[0].allowed.origins[1]');
    assert.equal(formatPath(pathInFormat('xml', bad)), 'CORSConfiguration.CORSRule[0].AllowedOrigin[1]');
    assert.deepEqual(
      problemsOf('{"rules":[{"allowed":{"origins":["https://a.example/"],"methods":["GET","PATCH"]}}]}'),
      [
        "rules[0].allowed.origins[0]: origin 'https://a.example/' ends with '/'; an origin has no path, so write 'https://a.example' [malformed]",
        "rules[0].allowed.methods[1]: method 'PATCH' is not allowed; use GET, PUT, POST, DELETE, HEAD [invalid]",
      ],
    );
  });

  test('a refused value still yields the policy, so it can be sent on purpose', () => {
    const result = parsePolicyData([{ AllowedOrigins: ['https://a.example/'], AllowedMethods: ['GET'] }], 'dashboard');
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && result.policy?.rules[0].allowedOrigins, ['https://a.example/']);
  });

  test('not XML, not JSON, empty configuration, over 64 KB', () => {
    assert.deepEqual(problemsOf('<CORSConfiguration><CORSRule>'), [
      'not well-formed XML at line 1, column 1: unclosed element(s) <CORSConfiguration>, <CORSRule> [malformed]',
    ]);
    assert.match(problemsOf('[{"AllowedOrigins": }]')[0], /^not valid JSON/);
    assert.match(problemsOf('AllowedOrigins: x')[0], /^not a CORS policy/);
    assert.deepEqual(problemsOf('<CORSConfiguration/>'), [
      'CORSConfiguration.CORSRule: a policy needs at least one rule (to remove a policy, delete it) [malformed]',
    ]);
    const huge = JSON.stringify([
      { AllowedOrigins: ['*'], AllowedMethods: ['GET'], AllowedHeaders: ['x'.repeat(70_000)] },
    ]);
    assert.match(problemsOf(huge)[0], /at most 65536 are allowed/);
  });
});

describe('detectFormat', () => {
  test('by the first character, ignoring white space and a BOM', () => {
    assert.equal(detectFormat('  <CORSConfiguration/>'), 'xml');
    assert.equal(detectFormat('\uFEFF[ ]'), 'dashboard');
    assert.equal(detectFormat('\n{"rules":[]}'), 'rules');
    assert.equal(detectFormat('rules: []'), undefined);
  });
});
