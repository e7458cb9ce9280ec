/**
 * `npm run nightly`: the suite against a live account with any number of buckets, down to one. The cases of
 * this shard (CORS_SHARD=i/N or --shard=i/N) run in one `playwright test`, in waves as wide as the buckets
 * (harness/run/waves.ts, coordinator.ts). A run of every case writes the reports (conformance page, summary.md,
 * HTML report, results.json) as `npx playwright test` does; one shard of several writes a blob report and,
 * beside it, a copy of its run state, which a later `npm run nightly:merge` merges with the other shards'.
 *
 * Ctrl-C reaches the Playwright run, which stops its tests and puts its buckets back.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCases } from '../cases/load.ts';
import { customDomainCasesLeftOut, shardOf } from './waves.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PLAYWRIGHT = path.join(ROOT, 'node_modules/@playwright/test/cli.js');
const MERGE_CONFIG = path.join(ROOT, 'harness/report/merge.config.ts');
/** Where the reports go: CORS_REPORTS_DIR, default reports/ (blob/, html/, results.json). */
const reportDir = (env: NodeJS.ProcessEnv) => path.resolve(ROOT, env.CORS_REPORTS_DIR ?? 'reports');
const blobDir = (env: NodeJS.ProcessEnv) => path.join(reportDir(env), 'blob');

const log = (line: string) => console.log(`[nightly] ${line}`);

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
  const leftOut = new Set(customDomainCasesLeftOut(ours, env));
  const cases = ours.filter((c) => !leftOut.has(c));
  const sharded = shard !== undefined && !shard.endsWith('/1');
  log(
    `${cases.length} case(s)${shard ? ` (shard ${shard})` : ''}: one Playwright run, in waves as wide as the buckets (its set-up says how many)`,
  );
  // A run of the whole corpus writes its reports itself, with playwright.config.ts's reporters, as
  // `npx playwright test` does; a shard of several writes a blob report (named after it, so that the shards'
  // blobs meet in one folder without clashing) and a copy of its run state, for `npm run nightly:merge`.
  // Blobs an earlier sharded run left are removed, so that a later merge cannot take them for this run's.
  if (!sharded) rmSync(blobDir(env), { recursive: true, force: true });
  else mkdirSync(blobDir(env), { recursive: true });
  const name = `shard-${shard?.replace('/', '-of-')}`;
  const [args, runEnv] = sharded
    ? [
        ['test', '--reporter=blob,list', ...passOn],
        {
          ...env,
          CORS_SHARD: shard,
          PLAYWRIGHT_BLOB_OUTPUT_FILE: path.join(blobDir(env), `${name}.zip`),
          R2_CORS_RUN_STATE_COPY: path.join(blobDir(env), `${name}.state.json`),
        },
      ]
    : [['test', ...passOn], { ...env, ...(shard ? { CORS_SHARD: shard } : {}), CORS_REPORTS_DIR: reportDir(env) }];
  let interrupted = false;
  const onInt = () => {
    interrupted = true;
  };
  // Ctrl-C reaches the Playwright run too, which puts its buckets back; this process waits for it.
  process.on('SIGINT', onInt);
  const code = await run(args, runEnv);
  process.off('SIGINT', onInt);
  if (interrupted || code === 130) {
    log('interrupted');
    return 130;
  }
  return code === 0 ? 0 : 1;
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
