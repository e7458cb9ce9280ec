import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetBucketCorsCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ROOT } from '../cli/run-cli.ts';
import { tempDir } from '../temp-dir.ts';
import { type EmulatorFixture, emulatorFixture } from './fixture.ts';

const run = promisify(execFile);
const PROPAGATION_MS = 1500;

let f: EmulatorFixture;
before(async () => {
  // A non-zero delay, as on R2 ("up to 30 seconds"), so the tests see the control and data planes differ.
  f = await emulatorFixture({ propagation: { min: PROPAGATION_MS, max: PROPAGATION_MS } });
  await f.s3.send(new CreateBucketCommand({ Bucket: 'rest' }));
});
after(() => f.close());

const bucketPath = (name: string) => `/accounts/${f.emulator.accountId}/r2/buckets/${name}`;
const preflight = async (url: string, origin = 'https://example.com') =>
  f.http(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'GET' } });

describe('Cloudflare REST API: bucket CORS', () => {
  test('GET with no policy: 404, code 10059', async () => {
    const { status, json } = await f.rest('GET', `${bucketPath('rest')}/cors`);
    assert.equal(status, 404);
    assert.equal(json.success, false);
    assert.equal(json.errors[0].code, 10059);
  });

  test('PascalCase keys (the dashboard format) are refused: 400, code 10040', async () => {
    const { status, json } = await f.rest('PUT', `${bucketPath('rest')}/cors`, {
      rules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }],
    });
    assert.equal(status, 400);
    assert.equal(json.errors[0].code, 10040);
  });

  test('unknown bucket: 404, code 10006; wrong token: 403', async () => {
    const missing = await f.rest('GET', `${bucketPath('nope')}/cors`);
    assert.equal(missing.status, 404);
    assert.equal(missing.json.errors[0].code, 10006);
    const response = await f.http(`${f.emulator.env.CLOUDFLARE_API_BASE_URL}${bucketPath('rest')}/cors`, {
      headers: { authorization: 'Bearer wrong' },
    });
    assert.equal(response.status, 403);
  });

  test('PUT then GET round-trips the rules; the S3 API sees the same policy at once', async () => {
    const rules = [{ id: 'site', allowed: { origins: ['https://example.com'], methods: ['GET'] }, maxAgeSeconds: 60 }];
    const put = await f.rest('PUT', `${bucketPath('rest')}/cors`, { rules });
    assert.equal(put.status, 200);
    assert.equal(put.json.success, true);
    const got = await f.rest('GET', `${bucketPath('rest')}/cors`);
    assert.deepEqual(got.json.result, { rules });
    const { CORSRules } = await f.s3.send(new GetBucketCorsCommand({ Bucket: 'rest' }));
    assert.equal(CORSRules?.[0].ID, 'site');
  });
});

describe('propagation: the control plane changes at once, requests follow after the delay', () => {
  test('a policy set through the REST API answers preflights only after the delay', async () => {
    await f.s3.send(new CreateBucketCommand({ Bucket: 'slow' }));
    await f.s3.send(new PutObjectCommand({ Bucket: 'slow', Key: 'a.txt', Body: 'a' }));
    // A URL for the GET the preflight announces: the emulator checks a presigned URL's signature on its preflight.
    const url = await getSignedUrl(f.s3, new GetObjectCommand({ Bucket: 'slow', Key: 'a.txt' }), { expiresIn: 600 });
    const start = Date.now();
    await f.rest('PUT', `${bucketPath('slow')}/cors`, {
      rules: [{ allowed: { origins: ['https://example.com'], methods: ['GET'] } }],
    });
    // The delay runs from when the emulator took the PUT: after `start`, before its answer (on a loaded machine
    // the two lie far apart, so each bound uses the side that is safe).
    const answered = Date.now();
    assert.equal((await f.rest('GET', `${bucketPath('slow')}/cors`)).status, 200, 'the control plane has it at once');
    const early = await preflight(url);
    if (Date.now() - start < PROPAGATION_MS) assert.equal(early.status, 403, 'the data plane does not have it yet');
    await new Promise((resolve) => setTimeout(resolve, PROPAGATION_MS - (Date.now() - answered) + 100));
    assert.equal((await preflight(url)).status, 200);
  });
});

describe('wrangler r2 bucket cors set / list / delete against the emulator', () => {
  const env = () => ({
    ...process.env,
    ...f.emulator.env,
    NODE_EXTRA_CA_CERTS: f.emulator.caFile,
    WRANGLER_SEND_METRICS: 'false',
    CI: 'true',
    NO_COLOR: '1',
    HOME: tempDir('wrangler-home-'),
  });
  const wrangler = (...args: string[]) =>
    run(process.execPath, [path.join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), ...args], {
      cwd: ROOT,
      env: env(),
      timeout: 60_000,
    });

  test('set from a file, list it, see it on the S3 endpoint after the delay, delete it', async () => {
    await f.s3.send(new CreateBucketCommand({ Bucket: 'wrangled' }));
    await f.s3.send(new PutObjectCommand({ Bucket: 'wrangled', Key: 'a.txt', Body: 'a' }));
    const dir = tempDir('wrangler-cors-');
    const file = path.join(dir, 'cors.json');
    writeFileSync(
      file,
      JSON.stringify({ rules: [{ allowed: { origins: ['https://wrangled.example'], methods: ['GET'] } }] }),
    );

    const set = await wrangler('r2', 'bucket', 'cors', 'set', 'wrangled', '--file', file, '--force');
    assert.match(set.stdout, /Set CORS configuration for bucket 'wrangled'/);
    const setAt = Date.now();
    const list = await wrangler('r2', 'bucket', 'cors', 'list', 'wrangled');
    assert.match(list.stdout, /allowed_origins:\s+https:\/\/wrangled\.example/);

    const url = await getSignedUrl(f.s3, new GetObjectCommand({ Bucket: 'wrangled', Key: 'a.txt' }), {
      expiresIn: 600,
    });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, PROPAGATION_MS - (Date.now() - setAt) + 100)));
    const answered = await preflight(url, 'https://wrangled.example');
    assert.equal(answered.status, 200);
    assert.equal(answered.headers['access-control-allow-origin'], 'https://wrangled.example');

    const deleted = await wrangler('r2', 'bucket', 'cors', 'delete', 'wrangled', '--force');
    assert.match(deleted.stdout, /CORS configuration deleted for bucket 'wrangled'/);
    assert.equal((await f.rest('GET', `${bucketPath('wrangled')}/cors`)).status, 404);
  });
});
