import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { type EmulatorFixture, emulatorFixture } from './fixture.ts';

let f: EmulatorFixture;
let publicHost: string;
const DOMAIN = 'static.cdn.test';
const ZONE = 'zone-1';

const policy = (origin: string) => ({ rules: [{ allowed: { origins: [origin], methods: ['GET'] } }] });

before(async () => {
  f = await emulatorFixture();
  await f.s3.send(new CreateBucketCommand({ Bucket: 'site' }));
  await f.s3.send(
    new PutObjectCommand({ Bucket: 'site', Key: 'logo.svg', Body: '<svg/>', ContentType: 'image/svg+xml' }),
  );
  const bucket = `/accounts/${f.emulator.accountId}/r2/buckets/site`;
  const managed = await f.rest('PUT', `${bucket}/domains/managed`, { enabled: true });
  publicHost = (managed.json.result as { domain: string }).domain;
  const custom = await f.rest('POST', `${bucket}/domains/custom`, { domain: DOMAIN, zoneId: ZONE, enabled: true });
  assert.equal(custom.status, 200);
  await f.rest('PUT', `${bucket}/cors`, policy('https://a.example'));
});
after(() => f.close());

describe('r2.dev URL', () => {
  test('enabling it gives a pub-<32 hex>.r2.dev host', () => {
    assert.match(publicHost, /^pub-[0-9a-f]{32}\.r2\.dev$/);
  });

  test('GET from an allowed origin: the object with Access-Control-Allow-Origin', async () => {
    const r = await f.http(`https://${publicHost}/logo.svg`, { headers: { origin: 'https://a.example' } });
    assert.equal(r.status, 200);
    assert.equal(r.body, '<svg/>');
    assert.equal(r.headers['access-control-allow-origin'], 'https://a.example');
    assert.match(String(r.headers.etag), /^"[0-9a-f]{32}"$/);
  });

  test('no Origin: no CORS headers', async () => {
    const r = await f.http(`https://${publicHost}/logo.svg`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], undefined);
  });

  test('OPTIONS without Origin answers 400 with an HTML page [doc]', async () => {
    const r = await f.http(`https://${publicHost}/logo.svg`, { method: 'OPTIONS' });
    assert.equal(r.status, 400);
    assert.match(String(r.headers['content-type']), /^text\/html/);
  });

  test('a preflight is answered per the policy', async () => {
    const ok = await f.http(`https://${publicHost}/logo.svg`, {
      method: 'OPTIONS',
      headers: { origin: 'https://a.example', 'access-control-request-method': 'GET' },
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['access-control-allow-methods'], 'GET');
  });

  test('read-only: PUT answers 405; a missing object 404, both as HTML', async () => {
    const put = await f.http(`https://${publicHost}/logo.svg`, { method: 'PUT', body: 'x' });
    assert.equal(put.status, 405);
    const missing = await f.http(`https://${publicHost}/nope.svg`);
    assert.equal(missing.status, 404);
    assert.match(missing.body, /^<!DOCTYPE html>/);
  });

  test('a host that serves no bucket: 404', async () => {
    const r = await f.http(`https://pub-${'0'.repeat(32)}.r2.dev/logo.svg`);
    assert.equal(r.status, 404);
  });
});

describe('custom domain behind the edge cache', () => {
  const url = `https://${DOMAIN}/logo.svg`;
  const get = (origin: string) => f.http(url, { headers: { origin } });
  const bucket = () => `/accounts/${f.emulator.accountId}/r2/buckets/site`;

  test('cached responses keep their CORS headers after a policy change until purged [doc]', async () => {
    const first = await get('https://a.example');
    assert.equal(first.headers['cf-cache-status'], 'MISS');
    assert.equal(first.headers['access-control-allow-origin'], 'https://a.example');
    assert.equal((await get('https://a.example')).headers['cf-cache-status'], 'HIT');

    await f.rest('PUT', `${bucket()}/cors`, policy('https://b.example'));
    const stale = await get('https://a.example');
    assert.equal(stale.headers['cf-cache-status'], 'HIT');
    assert.equal(stale.headers['access-control-allow-origin'], 'https://a.example', 'the old header is still served');

    // The cache key includes Origin [doc]: another origin is a miss and sees the new policy.
    const fresh = await get('https://b.example');
    assert.equal(fresh.headers['cf-cache-status'], 'MISS');
    assert.equal(fresh.headers['access-control-allow-origin'], 'https://b.example');

    const purge = await f.rest('POST', `/zones/${ZONE}/purge_cache`, { purge_everything: true });
    assert.equal(purge.status, 200);
    const after = await get('https://a.example');
    assert.equal(after.headers['cf-cache-status'], 'MISS');
    assert.equal(after.headers['access-control-allow-origin'], undefined);
  });

  test('purge by URL drops every origin’s copy of that URL only', async () => {
    await f.s3.send(new PutObjectCommand({ Bucket: 'site', Key: 'other.txt', Body: 'o' }));
    await get('https://b.example');
    await f.http(`https://${DOMAIN}/other.txt`, { headers: { origin: 'https://b.example' } });
    await f.rest('POST', `/zones/${ZONE}/purge_cache`, { files: [url] });
    assert.equal((await get('https://b.example')).headers['cf-cache-status'], 'MISS');
    const other = await f.http(`https://${DOMAIN}/other.txt`, { headers: { origin: 'https://b.example' } });
    assert.equal(other.headers['cf-cache-status'], 'HIT');
  });

  test('purging an unknown zone is an error', async () => {
    const r = await f.rest('POST', '/zones/unknown/purge_cache', { purge_everything: true });
    assert.equal(r.status, 404);
    assert.equal(r.json.success, false);
  });
});

describe('request log', () => {
  test('records preflights with Origin and Access-Control-Request-*, and never a query string', async () => {
    const before = await f.http(`${f.emulator.env.R2_EMULATOR_LOG_URL}`, {
      headers: { authorization: `Bearer ${f.emulator.apiToken}` },
    });
    const since = JSON.parse(before.body).next;
    await f.http(`https://${publicHost}/logo.svg?X-Amz-Signature=secret`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://a.example',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'x-one,x-two',
      },
    });
    const log = await f.http(`${f.emulator.env.R2_EMULATOR_LOG_URL}?since=${since}`, {
      headers: { authorization: `Bearer ${f.emulator.apiToken}` },
    });
    const { entries } = JSON.parse(log.body);
    assert.equal(entries.length, 1);
    assert.deepEqual(
      { ...entries[0], seq: undefined, at: undefined },
      {
        seq: undefined,
        at: undefined,
        surface: 'public',
        method: 'OPTIONS',
        host: publicHost,
        path: '/logo.svg',
        origin: 'https://a.example',
        accessControlRequestMethod: 'GET',
        accessControlRequestHeaders: 'x-one,x-two',
        status: 403,
      },
    );
    assert.doesNotMatch(log.body, /secret/);
  });

  test('the log needs the API token', async () => {
    const r = await f.http(`${f.emulator.env.R2_EMULATOR_LOG_URL}`);
    assert.equal(r.status, 403);
  });
});
