/**
 * `npm run bench:live`: the nightly's wall time against its floor, waves × propagation delay, on the emulator
 * posing as a live account (its own process, `r2-cors emulator --env-file`, a 2 s delay): a pool of 1 bucket, a
 * pool of 4, and buckets of its own. Raw checks only (CORS_BROWSERS=none) unless CORS_BROWSERS says otherwise.
 * The last line is `live: pool 1 <r1>, pool 4 <r4>, own <r0>`, each ratio wall / (waves × delay). A record,
 * never an assertion. CORS_CASES chooses the cases (default: the corpus).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCases } from '../cases/load.ts';
import { targetFromEnv } from '../targets/from-env.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'harness/cli/r2-cors.mjs');
const DELAY_S = 2;

async function startEmulator(): Promise<{ env: Record<string, string>; stop: () => void }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'r2-cors-bench-live-'));
  const envFile = path.join(dir, 'r2.env');
  const child = spawn(
    process.execPath,
    ['--', BIN, 'emulator', '--env-file', envFile, '--propagation-delay', `${DELAY_S}s`],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('Press Ctrl-C')) resolve();
    });
    child.on('exit', () => reject(new Error(`the emulator stopped:\n${out}`)));
  });
  // The env file's KEY=value lines, read as any other tool reads them (the harness stays on its side of the wire).
  const env = Object.fromEntries(
    readFileSync(envFile, 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z0-9_]+=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  return { env, stop: () => child.kill() };
}

function nightly(env: NodeJS.ProcessEnv): Promise<{ code: number | null; ms: number; waves: number }> {
  const start = Date.now();
  const child = spawn('npm', ['run', '--silent', 'nightly'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  return new Promise((resolve) =>
    child.on('exit', (code) =>
      resolve({ code, ms: Date.now() - start, waves: Number(/in (\d+) wave\(s\)/.exec(out)?.[1] ?? 1) }),
    ),
  );
}

const emulator = await startEmulator();
try {
  const cases = process.env.CORS_CASES ?? 'cases';
  const count = loadCases([cases]).cases.length;
  const base: NodeJS.ProcessEnv = {
    ...process.env,
    ...emulator.env,
    CORS_TARGET: 'r2',
    CORS_CASES: cases,
    CORS_BROWSERS: process.env.CORS_BROWSERS ?? 'none',
    R2_CORS_STATE_DIR: mkdtempSync(path.join(tmpdir(), 'r2-cors-bench-state-')),
    CORS_REPORTS_DIR: mkdtempSync(path.join(tmpdir(), 'r2-cors-bench-reports-')),
  };
  const { target } = targetFromEnv({ ...base, R2_BUCKETS: 'x' });
  const pool = Array.from({ length: 4 }, (_, i) => `bench-pool-${i + 1}`);
  for (const bucket of pool) await target.createBucket?.(bucket);
  await target.close();
  const ratios: string[] = [];
  for (const [name, extra] of [
    ['pool 1', { R2_BUCKETS: pool[0] }],
    ['pool 4', { R2_BUCKETS: pool.join(',') }],
    ['own', { R2_BUCKET_PREFIX: 'bench-own' }],
  ] as const) {
    const r = await nightly({ ...base, ...extra });
    const floor = r.waves * DELAY_S * 1000;
    const ratio = (r.ms / floor).toFixed(2);
    console.log(
      `${name}: ${count} case(s) in ${r.waves} wave(s), wall ${(r.ms / 1000).toFixed(1)} s, waves × delay ${(floor / 1000).toFixed(0)} s, ratio ${ratio}${r.code === 0 ? '' : ` (exit ${r.code})`}`,
    );
    ratios.push(ratio);
  }
  console.log(`live: pool 1 ${ratios[0]}, pool 4 ${ratios[1]}, own ${ratios[2]}`);
} finally {
  emulator.stop();
}
