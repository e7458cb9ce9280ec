/**
 * `npm run bench:propagation`: the raw suite on the emulator with a propagation delay of 0 s and of 5 s, and
 * what the delay costs. Waits overlap across cases (every case's first policy is applied at once), so the 5 s
 * run should cost about one delay more, not one per case: the printed ratio (wall 5 s − wall 0 s) / 5 s is
 * targeted at ≤ 1.5. A sequence case that changes its policy again in the middle adds one delay of its own.
 * It then runs the corpus copied 4× (ids suffixed, harness/bench/corpus-copies.ts) at 0 s and prints the wall
 * times at 1× and 4×: what the corpus costs as it grows, cases that share the custom-domain zone included.
 * A record, not a test: no threshold is asserted.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { copyCorpus } from './corpus-copies.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PLAYWRIGHT = path.join(ROOT, 'node_modules/@playwright/test/cli.js');
const DELAY_S = 5;
const COPIES = 4;

function run(delay: string, cases = 'cases') {
  const started = Date.now();
  const result = spawnSync(process.execPath, [PLAYWRIGHT, 'test', '--project=raw', '--reporter=dot'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: {
      ...process.env,
      CORS_TARGET: 'emulator',
      CORS_CASES: cases,
      R2_EMULATOR_PROPAGATION_DELAY: delay,
      R2_CORS_STATE_DIR: mkdtempSync(path.join(tmpdir(), 'r2-cors-bench-')),
    },
  });
  const wall = (Date.now() - started) / 1000;
  const output = `${result.stdout}${result.stderr}`;
  const setup = /Set-up of (\d+) case\(s\) took ([\d.]+) s/.exec(output);
  const summary = /(\d+) passed/.exec(output)?.[0] ?? 'no test passed';
  if (result.status !== 0) console.log(output);
  return { wall, cases: setup?.[1] ?? '?', setup: Number(setup?.[2] ?? Number.NaN), summary, ok: result.status === 0 };
}

const zero = run('0');
const delayed = run(`${DELAY_S}s`);
const copies = copyCorpus(['cases'], COPIES);
const scaled = run('0', copies);
rmSync(copies, { recursive: true, force: true });
console.log(`raw suite on the emulator, ${zero.cases} cases`);
console.log(`  propagation 0 s: wall ${zero.wall.toFixed(1)} s (set-up ${zero.setup.toFixed(1)} s), ${zero.summary}`);
console.log(
  `  propagation ${DELAY_S} s: wall ${delayed.wall.toFixed(1)} s (set-up ${delayed.setup.toFixed(1)} s), ${delayed.summary}`,
);
console.log(
  `  ratio (wall ${DELAY_S} s − wall 0 s) / ${DELAY_S} s = ${((delayed.wall - zero.wall) / DELAY_S).toFixed(2)}   (target ≤ 1.5)`,
);
console.log(
  `  set-up alone: (${delayed.setup.toFixed(1)} − ${zero.setup.toFixed(1)}) / ${DELAY_S} = ${((delayed.setup - zero.setup) / DELAY_S).toFixed(2)}`,
);
console.log(`corpus size, propagation 0 s (${process.env.CORS_WORKERS ?? 4} workers)`);
console.log(
  `  1×: ${zero.cases} cases, wall ${zero.wall.toFixed(1)} s (set-up ${zero.setup.toFixed(1)} s), ${zero.summary}`,
);
console.log(
  `  ${COPIES}×: ${scaled.cases} cases, wall ${scaled.wall.toFixed(1)} s (set-up ${scaled.setup.toFixed(1)} s), ${scaled.summary}`,
);
console.log(`  wall ${COPIES}× / wall 1× = ${(scaled.wall / zero.wall).toFixed(2)}`);
if (!zero.ok || !delayed.ok || !scaled.ok) process.exitCode = 1;
