/**
 * A run stopped between a multipart upload's Create and its Complete (a flow case killed mid-way) leaves the
 * upload open: its parts stay stored, billed to the bucket's owner, and are listed by no object listing. So
 * `npx r2-cors restore` aborts the open uploads under the run's prefix, and leaves the owner's own alone.
 * The emulator's ListMultipartUploads, which restore relies on, is read here with the real AWS SDK.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetBucketCorsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { writeJournal } from '../../harness/run/journal.ts';
import { targetFromEnv } from '../../harness/targets/from-env.ts';
import { collectOutput } from '../child-output.ts';
import { ROOT } from '../cli/run-cli.ts';
import { tempDir } from '../temp-dir.ts';
import { cliEmulator, liveEnvOf, ownerClient } from './live-account.ts';

const children: ChildProcess[] = [];
let emulatorEnv: Record<string, string>;
let s3: S3Client;

before(async () => {
  emulatorEnv = await cliEmulator('0s', children);
  s3 = ownerClient(emulatorEnv);
});

after(() => {
  for (const child of children) child.kill();
});

async function openUpload(bucket: string, key: string): Promise<string> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  assert.ok(UploadId);
  await s3.send(
    new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: Buffer.alloc(1024, 0x61) }),
  );
  return UploadId;
}

/** `npx r2-cors restore`, as a user runs it. */
async function npxRestore(env: NodeJS.ProcessEnv): Promise<{ code: unknown; output: string }> {
  const restore = spawn('npx', ['r2-cors', 'restore'], { cwd: ROOT, env });
  const output = collectOutput(restore);
  const code = await new Promise((resolve) => restore.on('exit', resolve));
  return { code, output: output() };
}

test('ListMultipartUploads through the AWS SDK: by prefix, in pages of max-uploads', async () => {
  const bucket = 'uploads-list';
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const a = await openUpload(bucket, 'in/a.bin');
  const b = await openUpload(bucket, 'in/b.bin');
  await openUpload(bucket, 'out/c.bin');
  const first = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'in/', MaxUploads: 1 }));
  assert.deepEqual(
    first.Uploads?.map((u) => [u.Key, u.UploadId]),
    [['in/a.bin', a]],
  );
  assert.equal(first.IsTruncated, true);
  const second = await s3.send(
    new ListMultipartUploadsCommand({
      Bucket: bucket,
      Prefix: 'in/',
      KeyMarker: first.NextKeyMarker,
      UploadIdMarker: first.NextUploadIdMarker,
    }),
  );
  assert.deepEqual(
    second.Uploads?.map((u) => [u.Key, u.UploadId]),
    [['in/b.bin', b]],
  );
  assert.equal(second.IsTruncated, false);
});

test('`npx r2-cors restore` aborts the uploads a stopped run left open, and only those', async () => {
  const bucket = 'uploads-owner';
  const prefix = 'r2-cors-run-20261129-0a0b0c/';
  const rules = [{ AllowedOrigins: ['https://app.owner.example'], AllowedMethods: ['GET' as const] }];
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: rules } }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'owner/file.txt', Body: 'mine' }));
  const owners = await openUpload(bucket, 'owner/big.bin');

  // What a run killed mid-flow leaves: its journal, an object and an open upload under its prefix. The journal
  // goes where the run's state directory is (journalDir() reads it from this process's environment).
  const state = tempDir('r2-cors-uploads-state-');
  const env = liveEnvOf(emulatorEnv, { R2_BUCKETS: bucket, R2_CORS_STATE_DIR: state });
  const { target } = targetFromEnv(env);
  const before = process.env.R2_CORS_STATE_DIR;
  process.env.R2_CORS_STATE_DIR = state;
  writeJournal({
    version: 1,
    target: target.identity,
    kind: 'r2',
    bucket,
    originalPolicy: {
      rules: [{ allowedOrigins: ['https://app.owner.example'], allowedMethods: ['GET'] }],
    },
    prefix,
    runId: '20261129-0a0b0c',
    startedAt: new Date().toISOString(),
    pid: 999_999_999,
  });
  if (before === undefined) delete process.env.R2_CORS_STATE_DIR;
  else process.env.R2_CORS_STATE_DIR = before;
  await target.close();
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}flow/part-done.txt`, Body: 'x' }));
  await openUpload(bucket, `${prefix}flow/upload.bin`);

  const { code, output } = await npxRestore(env);
  assert.equal(code, 0, output);
  assert.match(
    output,
    new RegExp(
      `${bucket}: its policy \\(1 rule\\(s\\)\\) put back; 1 object\\(s\\) and 1 open multipart upload\\(s\\) under ${prefix} deleted`,
    ),
  );

  const open = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  assert.deepEqual(
    open.Uploads?.map((u) => [u.Key, u.UploadId]),
    [['owner/big.bin', owners]],
  );
  const objects = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  assert.deepEqual(
    objects.Contents?.map((o) => o.Key),
    ['owner/file.txt'],
  );
  const cors = await s3.send(new GetBucketCorsCommand({ Bucket: bucket }));
  assert.deepEqual(
    cors.CORSRules?.map((r) => [r.AllowedOrigins, r.AllowedMethods]),
    [[['https://app.owner.example'], ['GET']]],
  );
});

test('an upload left open under r2-cors-run-*/ with no journal is a leftover: restore aborts it', async () => {
  const bucket = 'uploads-leftover';
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const owners = await openUpload(bucket, 'owner/big.bin');
  await openUpload(bucket, 'r2-cors-run-20261129-0d0e0f/flow/upload.bin');
  const env = liveEnvOf(emulatorEnv, {
    R2_BUCKETS: bucket,
    R2_CORS_STATE_DIR: tempDir('r2-cors-uploads-state-'),
  });
  const { code, output } = await npxRestore(env);
  assert.equal(code, 0, output);
  assert.equal(output, `cleaned ${bucket}: 1 open multipart upload(s) of an interrupted run aborted\n`);
  const open = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  assert.deepEqual(
    open.Uploads?.map((u) => [u.Key, u.UploadId]),
    [['owner/big.bin', owners]],
  );
});
