/**
 * The nightly's three ways (nightly.test.ts) again, against an emulator that serves a bucket's PREVIOUS policy
 * after a change (`r2-cors emulator --fault previous-policy`; the control plane reports the new one): each run
 * must fail and say why, at the set-up (the propagation probe) and in summary.md.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import {
  type CORSRule,
  GetBucketCorsCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutBucketCorsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Agent, request } from 'undici';
import { tempDir } from '../temp-dir.ts';
import { cliEmulator, liveEnvOf, ownerClient, seedOwnersBuckets, snapshot, writeCases } from './live-account.ts';
import { assertMergedReports, children, npmRun } from './nightly-runs.ts';

/**
 * The same three ways against an emulator that stays one policy change behind (`--fault previous-policy`): every
 * wave is answered by the policy before its own (on the pool's bucket, wave 2 by wave 1's). Two cases, so two
 * waves (or two shards) each; a short propagation deadline. (c) is the nightly workflow's merge job after
 * failed shards: `npm run nightly:merge` must still exit 0 and its summary name every failure.
 */
describe('each way against an emulator that serves the previous policy: the run fails and says why', {
  concurrency: true,
}, () => {
  const FAULT_CASES = 2;
  const DEADLINE = 2;
  let faulty: Record<string, string>;
  let owner: S3Client;
  let faultCases: string;
  before(async () => {
    faulty = await cliEmulator('1s', children, ['--fault', 'previous-policy']);
    owner = ownerClient(faulty);
    // One request per case: every test of these runs fails, and each failure costs a new worker.
    faultCases = writeCases(FAULT_CASES, { oneRequest: true });
  });

  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  /** What the set-up says of each case (`buckets`: a pattern each), and the merged summary.md's failures. */
  function assertCaught(output: string, reports: string, buckets: string[], seen: string[]) {
    for (const [i, bucket] of buckets.entries())
      assert.match(
        output,
        new RegExp(
          `live-0${i + 1} on ${bucket}: ${literal(`policy not in effect after ${DEADLINE} s (the case's policy); last response seen: ${seen[i]}`)}`,
        ),
      );
    assertMergedReports(reports, FAULT_CASES, 'failed', true);
    const summary = readFileSync(path.join(reports, 'summary.md'), 'utf8');
    assert.match(summary, new RegExp(`^### R2 CORS conformance: ${FAULT_CASES} failed$`, 'm'));
    assert.ok(
      summary.includes(
        `- \`live-01 › get › raw\`: policy not in effect after ${DEADLINE} s (the case's policy); last response seen: ${seen[0]}`,
      ),
      summary,
    );
  }
  const ownersStar = 's3 GET 200, access-control-allow-origin: *, access-control-expose-headers: (absent)';
  const nothing = 's3 GET 200, access-control-allow-origin: (absent), access-control-expose-headers: (absent)';

  test('the fault is one a read-back cannot see: GetBucketCors reports the new policy, requests get the old', async () => {
    const [bucket] = await seedOwnersBuckets(owner, 'readback', 1);
    const rule = (origin: string): CORSRule => ({ AllowedOrigins: [origin], AllowedMethods: ['GET'] });
    await owner.send(
      new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [rule('https://new.example')] } }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const read = await owner.send(new GetBucketCorsCommand({ Bucket: bucket }));
    assert.deepEqual(read.CORSRules?.[0]?.AllowedOrigins, ['https://new.example']);
    const url = await getSignedUrl(owner, new GetObjectCommand({ Bucket: bucket, Key: 'owner/file-0.txt' }));
    const agent = new Agent({ connect: { ca: readFileSync(faulty.NODE_EXTRA_CA_CERTS, 'utf8') } });
    const allowOrigin = async (origin: string) => {
      const response = await request(url, { headers: { origin }, dispatcher: agent });
      await response.body.dump();
      return response.headers['access-control-allow-origin'];
    };
    assert.equal(await allowOrigin('https://new.example'), '*', "the owner's previous '*' rule answers");
    assert.equal(await allowOrigin('https://app0.owner.example'), 'https://app0.owner.example');
  });

  test('(a) a pool of one bucket', async () => {
    const [bucket] = await seedOwnersBuckets(owner, 'stale', 1);
    const before = await snapshot(owner, [bucket]);
    const reports = tempDir('r2-cors-nightly-');
    const env = liveEnvOf(faulty, {
      R2_BUCKETS: bucket,
      CORS_CASES: faultCases,
      CORS_REPORTS_DIR: reports,
      CORS_PROPAGATION_DEADLINE: String(DEADLINE),
    });
    const run = await npmRun('nightly', env);
    assert.equal(run.code, 1, run.output);
    // Wave 1 is answered by the owner's policy; wave 2 by wave 1's, which allows only live-01's origin.
    assertCaught(run.output, reports, [bucket, bucket], [ownersStar, nothing]);
    assert.deepEqual(await snapshot(owner, [bucket]), before);
  });

  test('(b) buckets of its own', async () => {
    const reports = tempDir('r2-cors-nightly-');
    const env = liveEnvOf(faulty, {
      R2_BUCKET_PREFIX: 'stale-own',
      R2_MAX_BUCKETS: '1',
      CORS_CASES: faultCases,
      CORS_REPORTS_DIR: reports,
      CORS_PROPAGATION_DEADLINE: String(DEADLINE),
    });
    const run = await npmRun('nightly', env);
    assert.equal(run.code, 1, run.output);
    // A new bucket's previous policy is none.
    const own = 'stale-own-\\d{8}-[0-9a-f]{6}-1';
    assertCaught(run.output, reports, [own, own], [nothing, nothing]);
    const left = (await owner.send(new ListBucketsCommand({}))).Buckets ?? [];
    assert.deepEqual(
      left.map((b) => b.Name).filter((n) => n?.startsWith('stale-own-')),
      [],
    );
  });

  test('(c) two shards, then the merge', async () => {
    const buckets = await seedOwnersBuckets(owner, 'stale-shard', 2);
    const before = await snapshot(owner, buckets);
    const reports = tempDir('r2-cors-nightly-');
    let output = '';
    for (const [i, bucket] of buckets.entries()) {
      const env = liveEnvOf(faulty, {
        R2_BUCKETS: bucket,
        CORS_CASES: faultCases,
        CORS_REPORTS_DIR: reports,
        CORS_PROPAGATION_DEADLINE: String(DEADLINE),
      });
      const run = await npmRun('nightly', env, [`--shard=${i + 1}/2`]);
      assert.equal(run.code, 1, run.output);
      output += run.output;
    }
    const merge = await npmRun(
      'nightly:merge',
      liveEnvOf(faulty, { CORS_CASES: faultCases, CORS_REPORTS_DIR: reports }),
    );
    assert.equal(merge.code, 0, merge.output);
    // stale-shard-02's owner has no rule for every origin (seedOwnersBuckets).
    assertCaught(output, reports, buckets, [ownersStar, nothing]);
    assert.deepEqual(await snapshot(owner, buckets), before);
  });
});
