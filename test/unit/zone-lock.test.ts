/**
 * The custom-domain zone's readers/writer lock: what a case needs is read from its steps, shared holds run
 * together, an exclusive one runs alone and is not starved, a hold dies with its connection, and a wait that
 * runs out names who holds the zone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { loadCases } from '../../harness/cases/load.ts';
import {
  runsUnder,
  startZoneLock,
  ZoneLockClient,
  type ZoneLockServer,
  type ZoneWide,
  zoneUse,
} from '../../harness/run/zone-lock.ts';

const pending = Symbol('pending');
/** The promise's value if it settles within a short while, else `pending`. */
async function soon<T>(promise: Promise<T>, ms = 100): Promise<T | typeof pending> {
  return Promise.race([promise, new Promise<typeof pending>((resolve) => setTimeout(() => resolve(pending), ms))]);
}

describe('zoneUse: what a case needs of the custom-domain zone, from its steps', () => {
  const { cases, problems } = loadCases(['cases']);
  assert.deepEqual(problems, []);
  const byId = new Map(cases.map((c) => [c.id, c]));
  const use = (id: string) => {
    const c = byId.get(id);
    assert.ok(c, `no case ${id}`);
    return zoneUse(c);
  };

  test('a case on the S3 endpoint and r2.dev only does not touch the zone', () => {
    assert.equal(use('wildcard-any-origin'), undefined);
  });
  test('a request on a custom domain shares the zone, for that request', () => {
    assert.deepEqual(use('no-cors-headers-without-origin'), { mode: 'shared', first: 2, last: 2 });
  });
  test('a purge of its own keys shares the zone from the first custom request to the purge', () => {
    assert.deepEqual(use('cache-keeps-old-headers'), { mode: 'shared', first: 1, last: 5 });
  });
  test('a purge of everything takes the zone alone', () => {
    assert.deepEqual(use('purge-everything-refreshes-headers'), { mode: 'exclusive', first: 1, last: 5 });
  });
  test('CORS_ZONE_WIDE: run runs (and prepares) every case, skip all but the zone-wide ones, only those', () => {
    const runs = (wide: ZoneWide) => (id: string) => {
      const c = byId.get(id);
      assert.ok(c, `no case ${id}`);
      return runsUnder(c, wide);
    };
    const ids = ['wildcard-any-origin', 'cache-keeps-old-headers', 'purge-everything-refreshes-headers'];
    assert.deepEqual(ids.map(runs('run')), [true, true, true]);
    assert.deepEqual(ids.map(runs('skip')), [true, true, false]);
    assert.deepEqual(ids.map(runs('only')), [false, false, true]);
  });
});

describe('the zone lock served on loopback', () => {
  let server: ZoneLockServer;
  const clients: ZoneLockClient[] = [];
  const client = () => {
    const c = new ZoneLockClient(server.address);
    clients.push(c);
    return c;
  };
  before(async () => {
    server = await startZoneLock();
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.close();
  });

  test('shared holds run together; an exclusive one waits for them, and later shared ones wait behind it', async () => {
    const [a, b, w, c] = [client(), client(), client(), client()];
    assert.deepEqual(await a.acquire('shared', 'a', 5000), { granted: true });
    assert.deepEqual(await b.acquire('shared', 'b', 5000), { granted: true });
    const writer = w.acquire('exclusive', 'w', 5000);
    assert.equal(await soon(writer), pending);
    const late = c.acquire('shared', 'c', 5000);
    assert.equal(await soon(late), pending, 'a shared request behind a waiting exclusive one waits');
    await a.release();
    assert.equal(await soon(writer), pending);
    await b.release();
    assert.deepEqual(await writer, { granted: true });
    assert.equal(await soon(late), pending, 'nobody shares the zone with an exclusive hold');
    await w.release();
    assert.deepEqual(await late, { granted: true });
    await c.release();
  });

  test('a hold dies with its connection (a crashed or killed worker)', async () => {
    const [dying, w] = [client(), client()];
    assert.deepEqual(await dying.acquire('exclusive', 'dying', 5000), { granted: true });
    const writer = w.acquire('exclusive', 'w', 5000);
    assert.equal(await soon(writer), pending);
    dying.close();
    assert.deepEqual(await writer, { granted: true });
    await w.release();
  });

  test('a new request from the same connection gives up its earlier hold', async () => {
    const [a, w] = [client(), client()];
    assert.deepEqual(await a.acquire('shared', 'case-1', 5000), { granted: true });
    const writer = w.acquire('exclusive', 'w', 5000);
    assert.equal(await soon(writer), pending);
    // The worker moves on to another case: its first hold ends, so the waiting exclusive one goes first.
    const next = a.acquire('shared', 'case-2', 5000);
    assert.deepEqual(await writer, { granted: true });
    assert.equal(await soon(next), pending);
    await w.release();
    assert.deepEqual(await next, { granted: true });
    await a.release();
  });

  test('a wait that runs out says who holds and who waits', async () => {
    const [holder, waiter, timed] = [client(), client(), client()];
    assert.deepEqual(await holder.acquire('shared', 'cache-keeps-old-headers [raw, worker 0]', 5000), {
      granted: true,
    });
    const writer = waiter.acquire('exclusive', 'purge-everything [raw, worker 1]', 5000);
    assert.deepEqual(await timed.acquire('shared', 'other [chromium, worker 2]', 50), {
      granted: false,
      holders: [
        'cache-keeps-old-headers [raw, worker 0] (shared)',
        'purge-everything [raw, worker 1] (exclusive, waiting)',
      ],
    });
    await holder.release();
    assert.deepEqual(await writer, { granted: true });
    await waiter.release();
  });
});
