/**
 * No secret under reports/: a live-style run (CORS_TARGET=r2, the real adapter, pointed at an emulator started
 * with keys and a token known here) over presigned and signed requests, then every file of its reports folder —
 * Playwright's HTML report with its zipped data and attachments, the JSON and JUnit reports, the conformance
 * page, conformance.json, observations.json, summary.md — is searched for the keys, the token, signatures and
 * presigned query strings.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { inflateRawSync } from 'node:zlib';
import { targetFromEnv } from '../../harness/targets/from-env.ts';
import { cliEmulator } from '../selftest/live-account.ts';
import { ONE_WORKER, suiteEnv } from '../selftest/run-suite.ts';
import { tempDir } from '../temp-dir.ts';
import { runWithReports } from './run-reports.ts';

const KNOWN = {
  accountId: '0123456789abcdef0123456789abcdef',
  accessKeyId: 'AKIDKNOWNFORTHESECRETSTEST000000',
  secretAccessKey: 'sEcReTkNoWnFoRtHeSeCrEtStEsT0000000000000000000000000000000000',
  apiToken: 'tOkEnKnOwNfOrThEsEcReTsTeSt00000000',
};
const CASES = 'cases/presigned';
// One bucket per case, however many the folder holds.
const BUCKETS = readdirSync(CASES)
  .filter((name) => name.endsWith('.yaml'))
  .map((_, i) => `known-${i + 1}`);

const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.pid) child.kill('SIGKILL');
});

/** Every text a file holds: itself, base64 bodies in JSON, and the entries of a zip embedded as a data URL. */
function texts(file: string): string[] {
  const text = readFileSync(file).toString('latin1');
  const out = [text];
  for (const m of text.matchAll(/"body": ?"([A-Za-z0-9+/=]{8,})"/g))
    out.push(Buffer.from(m[1], 'base64').toString('latin1'));
  for (const m of text.matchAll(/data:application\/zip;base64,([A-Za-z0-9+/=]+)/g))
    out.push(...unzip(Buffer.from(m[1], 'base64')));
  if (file.endsWith('.zip')) out.push(...unzip(readFileSync(file)));
  return out;
}

/** The entries of a zip, from its central directory (stored or deflated). */
function unzip(zip: Buffer): string[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) return [];
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extra = zip.readUInt16LE(at + 30);
    const comment = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + size);
    out.push((method === 8 ? inflateRawSync(data) : data).toString('latin1'));
    at += 46 + nameLength + extra + comment;
  }
  return out;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : [full];
  });
}

test('no key, token, signature or presigned query string in any file under reports/', async () => {
  const dir = tempDir('r2-cors-known-');
  mkdirSync(path.join(dir, 'data'));
  writeFileSync(path.join(dir, 'data', 'credentials.json'), JSON.stringify(KNOWN));
  const { ENV_FILE: _, ...emulatorEnv } = await cliEmulator('0', children, ['--data-dir', path.join(dir, 'data')]);
  assert.equal(emulatorEnv.R2_SECRET_ACCESS_KEY, KNOWN.secretAccessKey, 'the emulator took the known keys');
  const env = suiteEnv({ ...emulatorEnv, CORS_TARGET: 'r2', R2_BUCKETS: BUCKETS.join(',') });
  const { target } = targetFromEnv(env);
  for (const bucket of BUCKETS) await target.createBucket?.(bucket);
  await target.close();

  const run = await runWithReports({ ...ONE_WORKER, CORS_CASES: CASES }, ['raw'], env);
  assert.equal(run.code, 0, run.output);
  const observed = readFileSync(path.join(run.dir, 'observations.json'), 'utf8');
  assert.ok(observed.includes('?[presigned query redacted]'), 'presigned requests were made, and shown redacted');

  const secrets = [KNOWN.accessKeyId, KNOWN.secretAccessKey, KNOWN.apiToken];
  const patterns = [
    /X-Amz-Signature=(?!\[redacted\])/i,
    /X-Amz-Credential=(?!\[redacted\])/i,
    /AWS4-HMAC-SHA256 Credential=/,
    /Signature=[0-9a-f]{64}/,
    /\?X-Amz-[A-Za-z]+=/,
  ];
  const all = files(run.dir);
  assert.ok(
    all.some((f) => f.endsWith(path.join('html', 'index.html'))),
    'the HTML report is among them',
  );
  const found: string[] = [];
  for (const file of all) {
    for (const text of texts(file)) {
      for (const s of secrets) if (text.includes(s)) found.push(`${path.relative(run.dir, file)}: ${s.slice(0, 6)}…`);
      for (const p of patterns) if (p.test(text)) found.push(`${path.relative(run.dir, file)}: ${p}`);
    }
  }
  assert.deepEqual(found, []);
});
