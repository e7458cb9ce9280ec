/**
 * `npm run nightly`: the suite against a live account with any number of buckets, down to one. The cases (of
 * this shard, CORS_SHARD=i/N or --shard=i/N) are cut into waves as wide as the bucket pool (harness/run/waves.ts
 * says why one Playwright run per wave); each wave is one `playwright test` writing a blob report; the blobs are
 * merged into one HTML report and one reports/results.json — unless this is one shard of several, whose blobs a
 * later `npm run nightly:merge` merges with the other shards'.
 *
 * Ctrl-C stops the wave in progress (which puts its buckets back) and runs no further wave.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCases } from '../cases/load.ts';
import { bucketsFromEnv } from '../targets/from-env.ts';
import { planWaves, shardOf } from './waves.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PLAYWRIGHT = path.join(ROOT, 'node_modules/@playwright/test/cli.js');
/** Where the reports go: CORS_REPORTS_DIR, default reports/ (blob/, html/, results.json). */
const reportDir = (env: NodeJS.ProcessEnv) => path.resolve(ROOT, env.CORS_REPORTS_DIR ?? 'reports');
const blobDir = (env: NodeJS.ProcessEnv) => path.join(reportDir(env), 'blob');

const log = (line: string) => console.log(`[nightly] ${line}`);

/** How many cases one wave may hold: the bucket pool, or the buckets the run may create. */
export function waveWidth(env: NodeJS.ProcessEnv, cases: number): number {
  const { pool, own } = bucketsFromEnv(env);
  if (own) return Math.min(cases, own.max);
  return pool.length > 0 ? pool.length : cases;
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(process.execPath, [PLAYWRIGHT, ...args], { cwd: ROOT, env, stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 130 : 1))));
}

/** One HTML report (reports/html) and reports/results.json from every blob in reports/blob. */
export async function mergeReports(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const blobs = readdirSync(blobDir(env)).filter((n) => n.endsWith('.zip'));
  const out = path.relative(ROOT, reportDir(env)) || '.';
  log(`merging ${blobs.length} blob report(s) into ${out}/html and ${out}/results.json`);
  return run(['merge-reports', '--reporter=html,json', blobDir(env)], {
    ...env,
    PLAYWRIGHT_HTML_OUTPUT_DIR: path.join(reportDir(env), 'html'),
    PLAYWRIGHT_HTML_OPEN: 'never',
    PLAYWRIGHT_JSON_OUTPUT_FILE: path.join(reportDir(env), 'results.json'),
  });
}

export async function nightly(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const shardArg = argv.find((a) => a.startsWith('--shard='))?.slice('--shard='.length);
  const passOn = argv.filter((a) => !a.startsWith('--shard='));
  const shard = shardArg ?? env.CORS_SHARD;
  const { cases: all } = loadCases([env.CORS_CASES ?? 'cases']);
  const cases = shardOf(all, shard);
  const width = waveWidth(env, cases.length);
  const waves = planWaves(cases, width);
  const sharded = shard !== undefined && !shard.endsWith('/1');
  log(
    `${cases.length} case(s)${shard ? ` (shard ${shard})` : ''} in ${waves.length} wave(s) of at most ${width} bucket(s)`,
  );
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
      PLAYWRIGHT_BLOB_OUTPUT_FILE: path.join(blobDir(env), `${name}.zip`),
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

interface JsonSuite {
  title: string;
  suites?: JsonSuite[];
  specs?: { title: string; tests: { projectName: string; status: string }[] }[];
}

/** A Markdown summary of reports/results.json, for $GITHUB_STEP_SUMMARY: counts, then every unexpected test. */
export function summary(env: NodeJS.ProcessEnv = process.env): string {
  const file = path.join(reportDir(env), 'results.json');
  const report = JSON.parse(readFileSync(file, 'utf8')) as {
    stats: { expected: number; unexpected: number; skipped: number; flaky: number; duration: number };
    suites: JsonSuite[];
  };
  const failed: string[] = [];
  const walk = (suite: JsonSuite, parent: string) => {
    const title = suite.title.endsWith('.ts') ? parent : suite.title;
    for (const spec of suite.specs ?? [])
      for (const t of spec.tests)
        if (t.status === 'unexpected') failed.push(`\`[${t.projectName}] ${title} › ${spec.title}\``);
    for (const child of suite.suites ?? []) walk(child, title);
  };
  for (const suite of report.suites) walk(suite, '');
  const { stats } = report;
  const lines = [
    '## R2 CORS conformance, nightly',
    '',
    `${stats.expected} passed, ${stats.unexpected} failed, ${stats.skipped} skipped, ${stats.flaky} flaky (${Math.round(stats.duration / 1000)} s)`,
  ];
  if (failed.length > 0) lines.push('', '### Failed', '', ...failed.map((f) => `- ${f}`));
  lines.push('', 'The HTML report is in the `conformance-report` artifact (`npx playwright show-report html`).');
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const command = process.argv[2];
  if (command === 'summary') process.stdout.write(summary());
  const result =
    command === 'summary'
      ? Promise.resolve(0)
      : command === 'merge'
        ? mergeReports()
        : nightly(process.argv.slice(2)).catch((error) => {
            console.error(`[nightly] ${(error as Error).message}`);
            return 2;
          });
  result.then((code) => {
    process.exitCode = code;
  });
}
