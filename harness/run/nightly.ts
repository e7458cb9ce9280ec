/**
 * `npm run nightly`: the suite against a live account with any number of buckets, down to one. The cases (of
 * this shard, CORS_SHARD=i/N or --shard=i/N) are cut into waves as wide as the bucket pool (harness/run/waves.ts
 * says why one Playwright run per wave); each wave is one `playwright test` writing a blob report and, beside it,
 * a copy of its run state; these are merged into the reports of one run (conformance page, summary.md, HTML
 * report, results.json) — unless this is one shard of several, whose blobs a later `npm run nightly:merge`
 * merges with the other shards'.
 *
 * Ctrl-C stops the wave in progress (which puts its buckets back) and runs no further wave.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCases } from '../cases/load.ts';
import { bucketsFromEnv } from '../targets/from-env.ts';
import { customDomainCasesLeftOut, customDomainNote, planWaves, shardOf } from './waves.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PLAYWRIGHT = path.join(ROOT, 'node_modules/@playwright/test/cli.js');
const MERGE_CONFIG = path.join(ROOT, 'harness/report/merge.config.ts');
/** Where the reports go: CORS_REPORTS_DIR, default reports/ (blob/, html/, results.json). */
const reportDir = (env: NodeJS.ProcessEnv) => path.resolve(ROOT, env.CORS_REPORTS_DIR ?? 'reports');
const blobDir = (env: NodeJS.ProcessEnv) => path.join(reportDir(env), 'blob');

const log = (line: string) => console.log(`[nightly] ${line}`);

/**
 * How many cases one wave may hold: the bucket pool, or the buckets the run may create; and how many
 * custom-domain cases, when R2_CUSTOM_DOMAIN_BUCKETS gives them a pool of their own (0: no such pool).
 */
export function waveWidth(env: NodeJS.ProcessEnv, cases: number): { width: number; customWidth: number } {
  const { pool, own, customPool } = bucketsFromEnv(env);
  const width = own ? Math.min(cases, own.max) : pool.length > 0 ? pool.length : cases;
  return { width: Math.max(1, width), customWidth: customPool.length };
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(process.execPath, [PLAYWRIGHT, ...args], { cwd: ROOT, env, stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 130 : 1))));
}

/**
 * The reports of one run (README, "Reports": the conformance page, conformance.json, summary.md,
 * observations.json, Playwright's HTML, JSON and JUnit reports) from every blob in reports/blob and the run
 * states kept beside them.
 */
export async function mergeReports(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const blobs = readdirSync(blobDir(env)).filter((n) => n.endsWith('.zip'));
  const out = path.relative(ROOT, reportDir(env)) || '.';
  log(`merging ${blobs.length} blob report(s) into ${out}/ (conformance/index.html, summary.md, html, results.json)`);
  return run(['merge-reports', '--config', MERGE_CONFIG, blobDir(env)], {
    ...env,
    CORS_REPORTS_DIR: reportDir(env),
    R2_CORS_MERGE_STATES: blobDir(env),
  });
}

export async function nightly(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const shardArg = argv.find((a) => a.startsWith('--shard='))?.slice('--shard='.length);
  const passOn = argv.filter((a) => !a.startsWith('--shard='));
  const shard = shardArg ?? env.CORS_SHARD;
  const { cases: all } = loadCases([env.CORS_CASES ?? 'cases']);
  const ours = shardOf(all, shard);
  const note = customDomainNote(ours, env);
  const leftOut = new Set(customDomainCasesLeftOut(ours, env));
  const cases = ours.filter((c) => !leftOut.has(c));
  const { width, customWidth } = waveWidth(env, cases.length);
  const waves = planWaves(cases, width, customWidth);
  const sharded = shard !== undefined && !shard.endsWith('/1');
  log(
    `${cases.length} case(s)${shard ? ` (shard ${shard})` : ''} in ${waves.length} wave(s) of at most ${width} bucket(s)` +
      (customWidth > 0 ? ` and ${customWidth} with a custom domain (R2_CUSTOM_DOMAIN_BUCKETS)` : ''),
  );
  if (note) log(note);
  // A shard's blobs are named after it, so that the shards' blobs meet in one folder without clashing.
  if (!sharded) rmSync(blobDir(env), { recursive: true, force: true });
  mkdirSync(blobDir(env), { recursive: true });
  let worst = 0;
  let stop = false;
  const onInt = () => {
    stop = true;
  };
  process.on('SIGINT', onInt);
  for (const [i, wave] of waves.entries()) {
    if (stop) break;
    const name = `${shard ? `shard-${shard.replace('/', '-of-')}-` : ''}wave-${String(i + 1).padStart(3, '0')}`;
    log(`wave ${i + 1}/${waves.length}: ${wave.map((c) => c.id).join(', ')}`);
    const code = await run(['test', '--reporter=blob,list', ...passOn], {
      ...env,
      ...(shard ? { CORS_SHARD: shard } : {}),
      CORS_WAVE: `${i + 1}/${waves.length}`,
      CORS_WAVE_WIDTH: String(width),
      CORS_WAVE_CUSTOM_WIDTH: String(customWidth),
      PLAYWRIGHT_BLOB_OUTPUT_FILE: path.join(blobDir(env), `${name}.zip`),
      R2_CORS_RUN_STATE_COPY: path.join(blobDir(env), `${name}.state.json`),
    });
    if (code === 130) stop = true;
    worst = Math.max(worst, code === 130 ? 130 : code === 0 ? 0 : 1);
  }
  process.off('SIGINT', onInt);
  if (stop) {
    log('interrupted: no further wave was run');
    return 130;
  }
  if (!sharded) {
    const merged = await mergeReports(env);
    if (merged !== 0) return merged;
  }
  return worst;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const result =
    process.argv[2] === 'merge'
      ? mergeReports()
      : nightly(process.argv.slice(2)).catch((error) => {
          console.error(`[nightly] ${(error as Error).message}`);
          return 2;
        });
  result.then((code) => {
    process.exitCode = code;
  });
}
