import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../temp-dir.ts';
import { r2cors } from './run-cli.ts';

const FONT = 'cases/policies/font-localhost.json';
const PRESIGNED = 'cases/policies/presigned-upload.json';

/** A GET against the docs' font example, from an origin, with any extra options. */
const explainFontGet = (origin: string, ...options: string[]) =>
  r2cors(['explain', '--policy', FONT, '--origin', origin, '--method', 'GET', ...options]);

/** A PUT from the docs' example origin against the docs' presigned-upload policy, with one header. */
const explainPut = (header: string) =>
  r2cors(['explain', '--policy', PRESIGNED, '--origin', 'https://example.com', '--method', 'PUT', '--header', header]);

test("explain: the docs' font example, from the allowed origin", () => {
  const { status, stdout } = explainFontGet('http://localhost:3000');
  assert.equal(status, 0);
  assert.match(stdout, /The browser sends no preflight/);
  assert.match(stdout, /^Rule 1: matches$/m);
  assert.match(stdout, /^Actual {2}GET\n {2}Access-Control-Allow-Origin: http:\/\/localhost:3000$/m);
  assert.match(stdout, /^Verdict {2}ALLOWED/m);
});

test('explain: from another port, rule by rule why not, and the browser blocks it', () => {
  const { status, stdout } = explainFontGet('http://localhost:3001');
  assert.equal(status, 1);
  assert.match(
    stdout,
    /^Rule 1: does not match\n {2}- origin http:\/\/localhost:3001 is not in AllowedOrigins: http:\/\/localhost:3000$/m,
  );
  assert.match(stdout, /^Actual {2}GET\n {2}\(no CORS headers\)$/m);
  assert.match(
    stdout,
    /^Verdict {2}BLOCKED at the GET response: no Access-Control-Allow-Origin header \(Chromium: MissingAllowOriginHeader\)$/m,
  );
});

test("explain: the docs' presigned upload — preflight, exposed ETag, assumptions named", () => {
  const { status, stdout } = explainPut('Content-Type: application/json');
  assert.equal(status, 0);
  assert.match(stdout, /- Content-Type 'application\/json' is not form data or text\/plain/);
  assert.match(
    stdout,
    /Access-Control-Request-Headers: content-type\)\n {2}→ 200\n {2}Access-Control-Allow-Origin: https:\/\/example\.com/,
  );
  assert.match(stdout, /Besides the safelisted headers it can read: ETag/);
  assert.match(stdout, /^Assumed: R2 does not document these/m);
  assert.match(stdout, /- a matched preflight answers 200/);
});

test('explain: a header missing from AllowedHeaders is named, and the preflight fails', () => {
  const { status, stdout } = explainPut('x-amz-checksum-crc32');
  assert.equal(status, 1);
  assert.match(stdout, /- header x-amz-checksum-crc32 is not in AllowedHeaders: Content-Type/);
  assert.match(stdout, /→ 403 AccessForbidden/);
  assert.match(
    stdout,
    /BLOCKED at the preflight: no Access-Control-Allow-Origin header on the preflight \(status 403\) \(Chromium: PreflightMissingAllowOriginHeader\)/,
  );
});

test('explain: a credentialed request against a * rule is blocked by the browser, not by R2', () => {
  const star = '[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]';
  const { status, stdout } = r2cors(
    ['explain', '--policy', '-', '--origin', 'https://a.example', '--method', 'GET', '--credentials', 'include'],
    star,
  );
  assert.equal(status, 1);
  assert.match(stdout, /Access-Control-Allow-Origin: \*/);
  assert.match(stdout, /\(Chromium: WildcardOriginNotAllowed\)/);
});

test('explain: --json gives the evaluation for scripts', () => {
  const { status, stdout } = explainFontGet('http://localhost:3000', '--json');
  assert.equal(status, 0);
  const json = JSON.parse(stdout);
  assert.equal(json.preflightSent, false);
  assert.equal(json.actual.outcome, 'matched');
  assert.equal(json.blocked, null);
});

test('explain: usage errors exit 2', () => {
  assert.match(
    r2cors(['explain', '--policy', FONT, '--origin', 'http://localhost:3000']).stderr,
    /--method is required/,
  );
  assert.match(explainFontGet('localhost:3000').stderr, /--origin: origin 'localhost:3000' is not scheme/);
  assert.equal(r2cors(['explain', '--policy', 'missing.json', '--origin', 'http://a.b', '--method', 'GET']).status, 2);
});

test('every command answers --help with exit 0, an unknown command with exit 2', () => {
  for (const command of ['lint', 'convert', 'explain']) {
    const { status, stdout } = r2cors([command, '--help']);
    assert.equal(status, 0, command);
    assert.match(stdout, new RegExp(`^Usage: r2-cors ${command}`));
  }
  assert.equal(r2cors(['--help']).status, 0);
  assert.equal(r2cors(['frobnicate']).status, 2);
  const extra = r2cors(['restore', 'extra']);
  assert.equal(extra.status, 2);
  assert.match(extra.stderr, /restore: unexpected argument 'extra'/);
});

test('explain: an x-amz-* AllowedHeaders pattern matches, and the answer names the choice it rests on', () => {
  const dir = tempDir('explain-amz-');
  const file = path.join(dir, 'amz.json');
  writeFileSync(
    file,
    JSON.stringify([{ AllowedOrigins: ['https://a.example'], AllowedMethods: ['PUT'], AllowedHeaders: ['x-amz-*'] }]),
  );
  const ask = (name: string) =>
    r2cors(['explain', '--policy', file, '--origin', 'https://a.example', '--method', 'PUT', '--header', name]);
  const matched = ask('x-amz-meta-owner');
  assert.equal(matched.status, 0);
  assert.match(matched.stdout, /^Rule 1: matches$/m);
  assert.match(matched.stdout, /^ {2}Access-Control-Allow-Headers: x-amz-meta-owner$/m);
  assert.match(
    matched.stdout,
    /^ {2}- an AllowedHeaders entry with '\*' inside \(x-amz-\*\) matches any run of characters, as on AWS; R2 documents only the bare '\*' \[open\]$/m,
  );
  const other = ask('x-custom');
  assert.equal(other.status, 1);
  assert.match(other.stdout, /^ {2}- header x-custom is not in AllowedHeaders: x-amz-\*$/m);
});
