import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { r2cors } from './run-cli.ts';

const DOCS_PRESIGNED = 'cases/policies/presigned-upload.json';

test("convert: the docs' presigned-upload policy to the wrangler format", () => {
  const { status, stdout } = r2cors(['convert', DOCS_PRESIGNED, '--to', 'rules']);
  assert.equal(status, 0);
  assert.equal(
    stdout,
    `{
  "rules": [
    {
      "allowed": {
        "origins": ["https://example.com"],
        "methods": ["PUT"],
        "headers": ["Content-Type"]
      },
      "exposeHeaders": ["ETag"],
      "maxAgeSeconds": 3600
    }
  ]
}
`,
  );
});

test('convert: to XML and back through standard input gives the original file', () => {
  const xml = r2cors(['convert', DOCS_PRESIGNED, '--to', 'xml']);
  assert.equal(xml.status, 0);
  assert.match(xml.stdout, /<AllowedHeader>Content-Type<\/AllowedHeader>/);
  assert.match(xml.stdout, /<MaxAgeSeconds>3600<\/MaxAgeSeconds>/);
  const back = r2cors(['convert', '-', '--to', 'dashboard'], xml.stdout);
  assert.equal(back.status, 0);
  assert.equal(back.stdout, readFileSync(DOCS_PRESIGNED, 'utf8'));
});

test('convert: an invalid policy is refused with its line and the error R2 answers', () => {
  const { status, stdout, stderr } = r2cors(['convert', 'test/fixtures/lint/policies/bad-rules.json', '--to', 'xml']);
  assert.equal(status, 1);
  assert.equal(stdout, '');
  assert.equal(
    stderr,
    "test/fixtures/lint/policies/bad-rules.json:6:28  rules[0].allowed.methods[1]: method 'PATCH' is not allowed; use GET, PUT, POST, DELETE, HEAD\n" +
      'test/fixtures/lint/policies/bad-rules.json:8:24  rules[0].maxAgeSeconds: max age 86401 is outside 0…86400 seconds\n' +
      'R2 refuses this policy: S3 API 400 InvalidRequest; REST API 400 code 10040\n',
  );
});

test('convert: rule ids do not fit the dashboard format unless dropped', () => {
  const withIds = '{"rules":[{"id":"uploads","allowed":{"origins":["*"],"methods":["GET"]}}]}';
  const refused = r2cors(['convert', '-', '--to', 'dashboard'], withIds);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /rule 1 has id 'uploads'.*--drop-ids/);
  const dropped = r2cors(['convert', '-', '--to', 'dashboard', '--drop-ids'], withIds);
  assert.equal(dropped.status, 0);
  assert.equal(JSON.parse(dropped.stdout)[0].AllowedOrigins[0], '*');
});

test('convert: usage errors exit 2 and say what is wrong', () => {
  assert.match(r2cors(['convert', DOCS_PRESIGNED]).stderr, /--to must be one of dashboard, rules, xml/);
  const missing = r2cors(['convert', 'nope.json', '--to', 'xml']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /cannot read nope\.json: no such file/);
  assert.equal(r2cors(['convert', '--bogus']).status, 2);
});
