/**
 * CORS_ZONE_WIDE: shards of a run on one account leave the cases that purge the whole custom-domain zone to one
 * run of their own (README, "What cases share"). Two case files of their own, copied from the corpus, so that the
 * lists stay exact as cases/custom-domain grows: one that shares the zone, one that purges all of it. A run
 * prepares (buckets, objects, policies) only the cases it runs: the others are skipped, said why, and never
 * touched.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import type { RunState } from '../../harness/run/state.ts';
import { tempDir } from '../temp-dir.ts';
import { ONE_WORKER, runSuite, type SuiteResult, suiteEnv } from './run-suite.ts';

function zoneCases(): string {
  const dir = tempDir('r2-cors-zone-');
  for (const id of ['cache-keeps-old-headers', 'purge-everything-refreshes-headers'])
    copyFileSync(path.join('cases', 'custom-domain', `${id}.yaml`), path.join(dir, `${id}.yaml`));
  return dir;
}

/** The cases the run's set-up prepared: those its run state (under R2_CORS_STATE_DIR) gives a bucket. */
function prepared(env: NodeJS.ProcessEnv): string[] {
  const dir = path.join(env.R2_CORS_STATE_DIR as string, 'run');
  const [file, ...more] = readdirSync(dir);
  assert.deepEqual(more, [], 'one run, one state file');
  return Object.keys((JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as RunState).cases).sort();
}

const statuses = (result: SuiteResult) => [...result.tests].map(([title, t]) => `${title}: ${t.status}`).sort();
const requests = ['after-purge', 'before-change', 'cached-after-change'];

describe('CORS_ZONE_WIDE: shards leave the zone-wide cases to one run of their own', { concurrency: true }, () => {
  test('skip: every case but those that purge the whole zone, which are neither prepared nor run', async () => {
    const env = suiteEnv({ ...ONE_WORKER, CORS_CASES: zoneCases(), CORS_ZONE_WIDE: 'skip' });
    const result = await runSuite(env);
    assert.equal(result.code, 0, result.output);
    assert.deepEqual(statuses(result), [
      ...requests.map((r) => `cache-keeps-old-headers › ${r}: passed`),
      ...requests.map((r) => `purge-everything-refreshes-headers › ${r}: skipped`),
    ]);
    const skip = result.tests
      .get('purge-everything-refreshes-headers › before-change')
      ?.annotations.find((a) => a.type === 'skip');
    assert.equal(skip?.description, 'purges the whole custom-domain zone: left to the run with CORS_ZONE_WIDE=only');
    assert.deepEqual(prepared(env), ['cache-keeps-old-headers']);
    assert.match(result.output, /; 1 case\(s\) from \S+; 1 left out by CORS_ZONE_WIDE=skip\n/);
  });

  test('only: the cases that purge the whole zone, and only they are prepared', async () => {
    const env = suiteEnv({ ...ONE_WORKER, CORS_CASES: zoneCases(), CORS_ZONE_WIDE: 'only' });
    const result = await runSuite(env);
    assert.equal(result.code, 0, result.output);
    assert.deepEqual(statuses(result), [
      ...requests.map((r) => `cache-keeps-old-headers › ${r}: skipped`),
      ...requests.map((r) => `purge-everything-refreshes-headers › ${r}: passed`),
    ]);
    const skip = result.tests
      .get('cache-keeps-old-headers › before-change')
      ?.annotations.find((a) => a.type === 'skip');
    assert.equal(skip?.description, 'CORS_ZONE_WIDE=only: only cases that purge the whole zone');
    assert.deepEqual(prepared(env), ['purge-everything-refreshes-headers']);
    assert.match(result.output, /; 1 case\(s\) from \S+; 1 left out by CORS_ZONE_WIDE=only\n/);
  });

  test('run (the default): every case prepared and run', async () => {
    const env = suiteEnv({ ...ONE_WORKER, CORS_CASES: zoneCases() });
    const result = await runSuite(env);
    assert.equal(result.code, 0, result.output);
    assert.deepEqual(statuses(result), [
      ...requests.map((r) => `cache-keeps-old-headers › ${r}: passed`),
      ...requests.map((r) => `purge-everything-refreshes-headers › ${r}: passed`),
    ]);
    assert.deepEqual(prepared(env), ['cache-keeps-old-headers', 'purge-everything-refreshes-headers']);
    assert.match(result.output, /; 2 case\(s\) from \S+\n/);
  });

  test('anything else stops the run before any test', async () => {
    const result = await runSuite(suiteEnv({ ...ONE_WORKER, CORS_CASES: zoneCases(), CORS_ZONE_WIDE: 'shard-1' }));
    assert.equal(result.code, 1);
    assert.match(result.output, /CORS_ZONE_WIDE must be run, skip or only \(got 'shard-1'\)/);
    assert.equal(result.tests.size, 0);
  });
});
