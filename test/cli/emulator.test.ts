import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { parseEnvFile } from '../../harness/emulator/index.ts';
import { parseDelay } from '../../harness/emulator/store.ts';
import { targetFromEnv } from '../../harness/targets/from-env.ts';
import { collectOutput } from '../child-output.ts';
import { tempDir } from '../temp-dir.ts';
import { ROOT, r2cors } from './run-cli.ts';

const BIN = fileURLToPath(new URL('../../harness/cli/r2-cors.mjs', import.meta.url));
const caDir = tempDir('r2-cors-cli-ca-');
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) child.kill('SIGKILL');
});

/** Starts `r2-cors emulator` and resolves once it says it is running, with its output so far. */
function startCli(args: string[]): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, ['--', BIN, 'emulator', ...args], {
    cwd: ROOT,
    env: { ...process.env, R2_CORS_CA_DIR: caDir },
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`emulator did not start:\n${output()}`)), 15_000);
    const output = collectOutput(child, (text) => {
      if (text.includes('Press Ctrl-C to stop.')) {
        clearTimeout(timer);
        resolve({ child, output });
      }
    });
    child.on('exit', (code) => reject(new Error(`emulator exited with ${code}:\n${output()}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

const readEnv = (file: string) => parseEnvFile(readFileSync(file, 'utf8'));

test('emulator --write-env: the file points tools at it; a policy set through either API answers preflights', async () => {
  const dir = tempDir('r2-cors-cli-');
  const envFile = path.join(dir, 'r2.env');
  const started = Date.now();
  const { child, output } = await startCli(['--write-env', envFile]);
  console.log(`# emulator started in ${Date.now() - started} ms (target: under 3 s)`);
  const env = readEnv(envFile);
  for (const key of [
    'R2_ACCOUNT_ID',
    'R2_ACCESS_KEY_ID',
    'R2_SECRET_ACCESS_KEY',
    'R2_S3_ENDPOINT',
    'CLOUDFLARE_API_BASE_URL',
    'CLOUDFLARE_API_TOKEN',
    'NODE_EXTRA_CA_CERTS',
  ]) {
    assert.ok(env[key], `${key} in the env file`);
  }
  assert.match(output(), new RegExp(`account id +${env.R2_ACCOUNT_ID}`));
  assert.match(output(), /CA certificate +\S+ca\.pem/);

  // Another tool configured from the file alone: the harness's own R2 adapter, as for a live account.
  const { target } = targetFromEnv({ ...env, CORS_TARGET: 'r2', R2_BUCKETS: 'via-s3' });
  const dispatcher = new Agent({ connect: { ca: readFileSync(env.NODE_EXTRA_CA_CERTS, 'utf8') } });
  const preflight = async (bucket: string, origin: string) => {
    const r = await request(`${env.R2_S3_ENDPOINT}/${bucket}/k`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'PUT' },
      dispatcher,
    });
    await r.body.text();
    return r.statusCode;
  };
  const allowing = (origin: string) => ({ rules: [{ allowedOrigins: [origin], allowedMethods: ['PUT'] }] });

  await target.createBucket?.('via-s3');
  await target.putPolicy('via-s3', allowing('https://s3.example'), 's3');
  assert.equal(await preflight('via-s3', 'https://s3.example'), 200);
  assert.equal(await preflight('via-s3', 'https://other.example'), 403);

  await target.createBucket?.('via-rest');
  await target.putPolicy('via-rest', allowing('https://rest.example'), 'rest');
  assert.equal(await preflight('via-rest', 'https://rest.example'), 200);
  assert.equal(await preflight('via-rest', 'https://s3.example'), 403);

  await dispatcher.close();
  await target.close();
  assert.equal(await stop(child), 0);
  assert.match(output(), /R2 emulator stopped\./);
});

test('npx r2-cors emulator --write-env r2.env, as the README says, in a fresh folder writes the file there', async () => {
  // Through npx, as a user runs it: npx is a node program of its own, and Node 20 takes `--env-file` in its
  // arguments as its own option (the old name failed there with "node: r2.env: not found").
  const cwd = tempDir('r2-cors-npx-');
  const child = spawn('npx', ['--prefix', ROOT, 'r2-cors', 'emulator', '--write-env', 'r2.env'], {
    cwd,
    env: { ...process.env, R2_CORS_CA_DIR: caDir },
    detached: true, // its own process group: npx, its shell and the emulator stop together
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let output = () => '';
  const started = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 60_000);
    output = collectOutput(child, (text) => {
      if (text.includes('Press Ctrl-C to stop.')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    exited.then(() => resolve(false));
  });
  const env = started ? readEnv(path.join(cwd, 'r2.env')) : {};
  if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGTERM');
  await exited;
  assert.ok(started, `the emulator did not start through npx:\n${output()}`);
  assert.match(env.R2_S3_ENDPOINT ?? '', /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.match(output(), /env file +r2\.env/);
});

test('emulator --data-dir: buckets, policies and credentials survive a restart', async () => {
  const dir = tempDir('r2-cors-data-');
  const envFile = path.join(dir, 'r2.env');
  const first = await startCli(['--data-dir', dir, '--env-file', envFile]);
  const env = readEnv(envFile);
  const rules = { rules: [{ allowedOrigins: ['https://kept.example'], allowedMethods: ['GET'] }] };
  const original = targetFromEnv({ ...env, CORS_TARGET: 'r2', R2_BUCKETS: 'kept' }).target;
  await original.createBucket?.('kept');
  await original.putPolicy('kept', rules, 'rest');
  await original.close();
  assert.equal(await stop(first.child), 0);

  await startCli(['--data-dir', dir, '--env-file', envFile]);
  const again = readEnv(envFile);
  assert.equal(again.R2_ACCESS_KEY_ID, env.R2_ACCESS_KEY_ID);
  const restarted = targetFromEnv({ ...again, CORS_TARGET: 'r2', R2_BUCKETS: 'kept' }).target;
  assert.deepEqual(await restarted.getPolicy('kept'), rules);
  await restarted.close();
});

test('emulator usage errors exit 2', () => {
  assert.match(r2cors(['emulator', '--write-env', 'a.env', '--env-file', 'b.env']).stderr, /not both/);
  assert.match(r2cors(['emulator', '--propagation-delay', 'soon']).stderr, /not a duration such as 2s/);
  assert.equal(r2cors(['emulator', '--port', 'x']).status, 2);
});

test('--propagation-delay accepts a duration or a range', () => {
  assert.deepEqual(parseDelay('0'), { min: 0, max: 0 });
  assert.deepEqual(parseDelay('500ms'), { min: 500, max: 500 });
  assert.deepEqual(parseDelay('2s'), { min: 2000, max: 2000 });
  assert.deepEqual(parseDelay('1s..5s'), { min: 1000, max: 5000 });
});
