/**
 * `npm run test:unit`: every test file under test/ (unit, CLI, emulator, self-tests, reports), run by node:test,
 * several files at once. Most self-tests wait (emulated propagation delays, browser launches, runs of the whole
 * suite), so files overlap well even on 2 cores; each child run keeps its state and reports in folders of its
 * own (test/selftest/run-suite.ts), so they cannot meet.
 *
 * The slowest files start first, so that the longest one is not left to run alone at the end (node's own
 * `--test` sorts the files by name, hence this script). `TEST_CONCURRENCY` sets how many files run at once
 * (default 4). Arguments run only those files: `npm run test:unit -- test/unit/zone-lock.test.ts`.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FOLDERS = ['test/selftest', 'test/report', 'test/emulator', 'test/cli', 'test/unit'];
/** Slowest first, from a whole `npm test`'s durations (the nightly and interruption self-tests take minutes). */
const SLOWEST = [
  'test/selftest/nightly.test.ts',
  'test/selftest/interrupt.test.ts',
  'test/selftest/interrupt-crash.test.ts',
  'test/selftest/nightly-faults.test.ts',
  'test/selftest/browser-isolation.test.ts',
  'test/report/calibrate.test.ts',
  'test/selftest/scale.test.ts',
  'test/report/changes.test.ts',
  'test/selftest/browser-design.test.ts',
  'test/selftest/faults.test.ts',
  'test/emulator/rest-api.test.ts',
  'test/emulator/fuzz.test.ts',
];

function testFiles(): string[] {
  const found = FOLDERS.flatMap((folder) =>
    readdirSync(path.join(ROOT, folder))
      .filter((name) => name.endsWith('.test.ts'))
      .sort()
      .map((name) => `${folder}/${name}`),
  );
  for (const file of SLOWEST)
    if (!found.includes(file)) throw new Error(`test/run-files.ts lists ${file} as slow, but there is no such file`);
  return [...new Set([...SLOWEST, ...found])];
}

const asked = process.argv.slice(2);
for (const file of asked) statSync(file);
const files = (asked.length > 0 ? asked : testFiles()).map((file) => path.resolve(ROOT, file));
const concurrency = Number(process.env.TEST_CONCURRENCY ?? 4);
if (!Number.isInteger(concurrency) || concurrency < 1)
  throw new Error(`TEST_CONCURRENCY must be a whole number ≥ 1 (got '${process.env.TEST_CONCURRENCY}')`);

// Each file runs in a child process of its own, started with this process's options (`--import tsx`).
const stream = run({ files, concurrency });
stream.on('test:fail', (event) => {
  if (!event.todo) process.exitCode = 1;
});
stream.compose(new spec()).pipe(process.stdout);
