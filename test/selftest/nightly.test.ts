/**
 * The nightly as a user runs it (`npm run nightly`, `npm run nightly:merge`), against the emulator posing as a
 * live account (CORS_TARGET=r2, its env file's endpoints and CA, a 1 s propagation delay):
 * (a) a pool of ONE bucket that holds its owner's policy and objects: the cases run in waves of one, every
 *     case × client once against its own policy, one report (written by the run, no merge), the bucket as its
 *     owner left it;
 * (b) buckets of its own (R2_BUCKET_PREFIX, R2_MAX_BUCKETS): created, journaled first, deleted at the end, after
 *     Ctrl-C too, and by `r2-cors restore` when a lost machine left them without a journal;
 * (c) two shards run one after the other, then merged into one report.
 * Each is one Playwright run per shard, its waves inside it (harness/run/coordinator.ts).
 * Each case of these fixtures allows only its own origin, so a case checked while another wave's policy was in
 * force fails: passing means each ran against its own policy. The merged reports are those of one run: the
 * conformance page, conformance.json (every case × client exactly once), summary.md, the HTML report.
 * Each way against an emulator that serves a bucket's PREVIOUS policy after a change: nightly-faults.test.ts.
 * The helpers both files use: nightly-runs.ts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { CreateBucketCommand, ListBucketsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Agent, request } from 'undici';
import { stringify } from 'yaml';
import { detectBrowsers } from '../../harness/browsers/detect.ts';
import { ROOT } from '../cli/run-cli.ts';
import { tempDir } from '../temp-dir.ts';
import {
  BIN,
  cliEmulator,
  liveEnvOf,
  ownerClient,
  seedOwnersBuckets,
  snapshot,
  until,
  writeCases,
} from './live-account.ts';
import { assertMergedReports, children, npmRun, requestLogOf, requestsOf, results } from './nightly-runs.ts';
import { startSuite } from './run-suite.ts';

/**
 * Four cases: live-04 is a sequence that changes its bucket's policy during the tests (writeCases), (b)'s waves
 * of three end with a short one, and each is one wave of (a).
 */
const CASES = 4;

const chromium = detectBrowsers({ ...process.env, CORS_BROWSERS: 'chromium' }).found.length > 0;
let s3: S3Client;
let emulatorEnv: Record<string, string>;
let cases: string;
before(async () => {
  emulatorEnv = await cliEmulator('1s', children);
  s3 = ownerClient(emulatorEnv);
  cases = writeCases(CASES);
});

/**
 * The three ways at once, each on buckets of its own (solo-, shard-, own-) with reports and state of its own: none
 * reads what another writes, and most of a wave is spent waiting on its processes and the propagation delay.
 */
describe('npm run nightly: the three ways, at once', { concurrency: true }, () => {
  test('(a) a pool of one bucket: waves of one, each case × client once on its own policy, one report, the bucket back', async () => {
    const [bucket] = await seedOwnersBuckets(s3, 'solo', 1);
    const owner = await snapshot(s3, [bucket]);
    const reports = tempDir('r2-cors-nightly-');
    const env = liveEnvOf(emulatorEnv, { R2_BUCKETS: bucket, CORS_CASES: cases, CORS_REPORTS_DIR: reports });
    const run = await npmRun('nightly', env);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, new RegExp(`\\[nightly\\] ${CASES} case\\(s\\): one Playwright run`));
    assert.match(
      run.output,
      new RegExp(
        `\\[r2-cors\\] ${CASES} case\\(s\\) in ${CASES} wave\\(s\\) of at most 1 bucket\\(s\\): one Playwright run`,
      ),
    );
    // Each wave applied once every test of the one before had ended, in order, in the one run.
    const waves = [...run.output.matchAll(/\[r2-cors\] wave (\d+)\/(\d+): 1 slot\(s\) \((live-\d+)(?:@raw)?\)/g)];
    assert.deepEqual(
      waves.map((m) => `${m[1]}/${m[2]} ${m[3]}`),
      Array.from({ length: CASES }, (_, i) => `${i + 1}/${CASES} live-0${i + 1}`),
    );
    // One propagation wait per wave: each wave applied one policy.
    assert.equal(
      run.output.match(/\[r2-cors\] \[1\/1\] live-\d+(?: \(raw\))? on solo-01 \(in effect after \d+ ms\)/g)?.length,
      CASES,
    );
    assertMergedReports(reports, CASES, 'passed');
    assert.doesNotMatch(run.output, /merging/, 'a run of every case writes its reports itself');
    assert.ok(!existsSync(path.join(reports, 'blob')), 'and leaves no blob report behind');
    // One run for all the waves: the page and summary.md name it.
    assert.match(
      readFileSync(path.join(reports, 'summary.md'), 'utf8'),
      /^### R2 CORS conformance: no failure\n\nTarget .* · run \d{8}-[0-9a-f]{6} ·/m,
    );
    assert.deepEqual(await snapshot(s3, [bucket]), owner);
  });

  test('(a) in a browser too: a sequence gets a wave of its own for each client, on the one bucket', {
    skip: !chromium,
  }, async () => {
    const [bucket] = await seedOwnersBuckets(s3, 'browser', 1);
    const owner = await snapshot(s3, [bucket]);
    const reports = tempDir('r2-cors-nightly-');
    const env = liveEnvOf(emulatorEnv, {
      R2_BUCKETS: bucket,
      CORS_CASES: cases,
      CORS_REPORTS_DIR: reports,
      CORS_BROWSERS: 'chromium',
      // One worker for raw, one for Chromium: each project keeps one of its own in waves.
      CORS_WORKERS: '2',
      // The emulator's CA (cliEmulator keeps one of its own), which Chromium is told to trust (detect.ts).
      R2_CORS_CA_DIR: path.join(path.dirname(emulatorEnv.ENV_FILE), 'ca'),
    });
    const run = await npmRun('nightly', env);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /\[r2-cors\] wave 4\/5: 1 slot\(s\) \(live-04@raw\)/);
    assert.match(run.output, /\[r2-cors\] wave 5\/5: 1 slot\(s\) \(live-04@chromium\)/);
    const merged = results(path.join(reports, 'results.json'));
    for (const [id, request] of requestsOf(CASES))
      for (const project of ['raw', 'chromium'])
        assert.deepEqual(merged.get(`${project} ${id} › ${request}`), ['passed'], `${project} ${id} › ${request}`);
    assert.deepEqual(await snapshot(s3, [bucket]), owner);
  });

  test('(c) two shards, each in waves, then one merged report', async () => {
    const buckets = await seedOwnersBuckets(s3, 'shard', 2);
    const owner = await snapshot(s3, buckets);
    const reports = tempDir('r2-cors-nightly-');
    for (const [i, bucket] of buckets.entries()) {
      const env = liveEnvOf(emulatorEnv, { R2_BUCKETS: bucket, CORS_CASES: cases, CORS_REPORTS_DIR: reports });
      const run = await npmRun('nightly', env, [`--shard=${i + 1}/2`]);
      assert.equal(run.code, 0, run.output);
      assert.doesNotMatch(run.output, /merging/, 'a shard of several leaves merging to the merge job');
    }
    // One Playwright run per shard, its waves inside it.
    assert.equal(readdirSync(path.join(reports, 'blob')).filter((n) => n.endsWith('.zip')).length, 2);
    assert.equal(readdirSync(path.join(reports, 'blob')).filter((n) => n.endsWith('.state.json')).length, 2);
    const merge = await npmRun(
      'nightly:merge',
      liveEnvOf(emulatorEnv, { CORS_CASES: cases, CORS_REPORTS_DIR: reports }),
    );
    assert.equal(merge.code, 0, merge.output);
    assertMergedReports(reports, CASES, 'passed');
    assert.deepEqual(await snapshot(s3, buckets), owner);
  });

  /** Buckets of the account whose name starts with `prefix-`. */
  async function bucketsNamed(prefix: string): Promise<string[]> {
    const listed = await s3.send(new ListBucketsCommand({}));
    return (listed.Buckets ?? []).map((b) => b.Name ?? '').filter((n) => n.startsWith(`${prefix}-`));
  }

  test('(b) buckets of its own (R2_BUCKET_PREFIX): waves of R2_MAX_BUCKETS, journaled, every one deleted at the end', async () => {
    const reports = tempDir('r2-cors-nightly-');
    const env = liveEnvOf(emulatorEnv, {
      R2_BUCKET_PREFIX: 'own',
      R2_MAX_BUCKETS: '3',
      CORS_CASES: cases,
      CORS_REPORTS_DIR: reports,
    });
    const log = requestLogOf(emulatorEnv);
    const logStart = await log.mark();
    const run = await npmRun('nightly', env);
    assert.equal(run.code, 0, run.output);
    assert.match(
      run.output,
      new RegExp(`\\[r2-cors\\] ${CASES} case\\(s\\) in 2 wave\\(s\\) of at most 3 bucket\\(s\\)`),
    );
    assert.match(
      run.output,
      /\[r2-cors\] \[\d\/3\] live-0\d on own-\d{8}-[0-9a-f]{6}-[123] \(in effect after \d+ ms\)/,
    );
    assert.match(
      run.output,
      /restored own-\d{8}-[0-9a-f]{6}-1: created by the run; \d+ object\(s\) and the bucket deleted/,
    );
    assertMergedReports(reports, CASES, 'passed');
    assert.deepEqual(await bucketsNamed('own'), []);
    // Each bucket it created (3, used again by wave 2) had its r2.dev URL enabled through the REST API once
    // (README, "Token scopes").
    const enabled = (await log.since(logStart)).entries.filter(
      (e) => e.method === 'PUT' && /\/r2\/buckets\/own-\d{8}-[0-9a-f]{6}-\d\/domains\/managed$/.test(e.path),
    );
    assert.deepEqual(
      enabled.map((e) => e.status),
      Array(3).fill(200),
    );

    // Ctrl-C in the middle of the set-up: the buckets created so far are deleted before the run exits.
    const interrupted = startSuite({ ...env, R2_MAX_BUCKETS: String(CASES) });
    children.push(interrupted.child);
    await until('a bucket of its own', async () => ((await bucketsNamed('own')).length > 0 ? true : undefined));
    process.kill(-(interrupted.child.pid as number), 'SIGINT');
    await new Promise((resolve) => interrupted.child.on('exit', resolve));
    assert.match(
      interrupted.output(),
      /Error: SIGINT during the set-up: stopped; every bucket it had changed was put back/,
    );
    assert.deepEqual(await bucketsNamed('own'), []);
    assert.deepEqual(readdirSync(path.join(env.R2_CORS_STATE_DIR as string, 'journal')), []);

    // A machine lost mid-run leaves buckets and no journal: `r2-cors restore` deletes them by their names.
    await s3.send(new CreateBucketCommand({ Bucket: 'own-20260101-abcdef-1' }));
    await s3.send(new PutObjectCommand({ Bucket: 'own-20260101-abcdef-1', Key: 'r2-cors-run-x/a', Body: 'a' }));
    const restored = spawnSync(process.execPath, ['--', BIN, 'restore'], { cwd: ROOT, env, encoding: 'utf8' });
    assert.equal(restored.status, 0, restored.stdout + restored.stderr);
    assert.match(
      restored.stdout,
      /deleted own-20260101-abcdef-1: created by run 20260101-abcdef, which left no journal here; 1 object\(s\) with it/,
    );
    assert.deepEqual(await bucketsNamed('own'), []);
  });
});

/**
 * Custom-domain cases on a live account run on the buckets the user attached to a domain of theirs
 * (R2_CUSTOM_DOMAIN_BUCKETS), a pool of their own in waves like the other; without it, one note says how to run
 * them. The emulator poses the user's domain: its custom listener serves `*.r2-cors.test`, attached by the owner
 * through the REST API as on R2.
 */
describe('R2_CUSTOM_DOMAIN_BUCKETS', { concurrency: true }, () => {
  let withDomains: string;
  before(() => {
    withDomains = writeCases(2);
    for (const i of [1, 2]) {
      const origin = `https://cd${i}.example`;
      writeFileSync(
        path.join(withDomains, `cd-0${i}.yaml`),
        stringify({
          id: `cd-0${i}`,
          title: `Live-run self-test custom-domain case ${i}`,
          source: ['https://developers.cloudflare.com/r2/buckets/cors/#use-cors-with-a-custom-domain'],
          objects: [{ key: 'a.txt', body: `cd${i}` }],
          policy: { dashboard: [{ AllowedOrigins: [origin], AllowedMethods: ['GET'] }] },
          requests: [
            {
              id: 'via-domain',
              from: origin,
              method: 'GET',
              surface: 'custom',
              key: 'a.txt',
              expect: { response: { status: 200, headers: { 'access-control-allow-origin': origin } } },
            },
          ],
        }),
      );
    }
  });

  /** The owner attaches `<bucket>.r2-cors.test` to the bucket, as in the dashboard. */
  async function attachDomain(bucket: string) {
    const agent = new Agent({ connect: { ca: readFileSync(emulatorEnv.NODE_EXTRA_CA_CERTS, 'utf8') } });
    const url = `${emulatorEnv.CLOUDFLARE_API_BASE_URL}/accounts/${emulatorEnv.R2_ACCOUNT_ID}/r2/buckets/${bucket}/domains/custom`;
    const response = await request(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${emulatorEnv.CLOUDFLARE_API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ domain: `${bucket}.r2-cors.test`, zoneId: 'r2-cors.test', enabled: true }),
      dispatcher: agent,
    });
    assert.equal(response.statusCode, 200, await response.body.text());
  }

  test('the custom-domain cases run on their own pool, in waves beside the others', async () => {
    const [pool] = await seedOwnersBuckets(s3, 'cd-pool', 1);
    const [domain] = await seedOwnersBuckets(s3, 'cd-domain', 1);
    await attachDomain(domain);
    const owner = await snapshot(s3, [pool, domain]);
    const reports = tempDir('r2-cors-nightly-');
    const env = liveEnvOf(emulatorEnv, {
      R2_BUCKETS: pool,
      R2_CUSTOM_DOMAIN_BUCKETS: domain,
      CORS_CASES: withDomains,
      CORS_REPORTS_DIR: reports,
    });
    const run = await npmRun('nightly', env);
    assert.equal(run.code, 0, run.output);
    assert.match(
      run.output,
      /\[r2-cors\] 4 case\(s\) in 2 wave\(s\) of at most 1 bucket\(s\) and 1 with a custom domain: one Playwright run/,
    );
    for (const [wave, ids] of [
      [1, 'cd-01, live-01'],
      [2, 'cd-02, live-02'],
    ])
      assert.match(run.output, new RegExp(`\\[r2-cors\\] wave ${wave}/2: 2 slot\\(s\\) \\(${ids}\\)\\n`));
    for (const i of [1, 2])
      assert.match(run.output, new RegExp(`\\] cd-0${i} on cd-domain-01 \\(in effect after \\d+ ms\\)`));
    const merged = results(path.join(reports, 'results.json'));
    assert.deepEqual([...merged.keys()].sort(), [
      'raw cd-01 › via-domain',
      'raw cd-02 › via-domain',
      'raw live-01 › get',
      'raw live-01 › other-origin',
      'raw live-02 › get',
      'raw live-02 › other-origin',
    ]);
    for (const [name, statuses] of merged) assert.deepEqual(statuses, ['passed'], name);
    assert.deepEqual(await snapshot(s3, [pool, domain]), owner);
  });

  test('without it, a live run leaves them out and says so once', async () => {
    const pool = await seedOwnersBuckets(s3, 'cd-none', 2);
    const reports = tempDir('r2-cors-nightly-');
    const env = liveEnvOf(emulatorEnv, {
      R2_BUCKETS: pool.join(','),
      CORS_CASES: withDomains,
      CORS_REPORTS_DIR: reports,
    });
    const run = await npmRun('nightly', env);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /\[nightly\] 2 case\(s\): one Playwright run/);
    assert.doesNotMatch(run.output, /wave\(s\) of at most/, 'two buckets for two cases: one wave');
    assert.equal(
      run.output.match(/custom-domain case\(s\) skipped/g)?.length,
      1,
      'one note, not one per wave or per request',
    );
    assert.ok(
      run.output.includes(
        '[r2-cors] 2 custom-domain case(s) skipped (cd-01, cd-02): to run them, set R2_CUSTOM_DOMAIN_BUCKETS to buckets attached to a custom domain of yours (README, "Nightly against your R2 account")',
      ),
      run.output,
    );
    assert.deepEqual([...results(path.join(reports, 'results.json')).keys()].sort(), [
      'raw live-01 › get',
      'raw live-01 › other-origin',
      'raw live-02 › get',
      'raw live-02 › other-origin',
    ]);
  });
});
