/**
 * What the nightly self-tests share (nightly.test.ts: the three ways and the custom-domain pool;
 * nightly-faults.test.ts: the same ways against an emulator that serves the previous policy): `npm run` as a
 * user runs it, and the reports of one run read back.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after } from 'node:test';
import { Agent } from 'undici';
import { RequestLogClient } from '../../harness/clients/request-log.ts';
import { collectOutput } from '../child-output.ts';
import { ROOT } from '../cli/run-cli.ts';

/** The processes the file started (emulators, runs): killed when it ends. */
export const children: ChildProcess[] = [];
after(() => {
  for (const child of children) if (child.pid && child.exitCode === null) child.kill('SIGKILL');
});

/**
 * `npm run <script>` as a user runs it. One Playwright worker unless the test says otherwise: a wave here holds a
 * case or three of raw checks taking milliseconds, and each further worker is a process costing seconds of CPU
 * to start; what these tests assert (waves, journals, merged reports) does not depend on it.
 */
export function npmRun(script: string, env: NodeJS.ProcessEnv, args: string[] = []) {
  const child = spawn('npm', ['run', '--silent', script, ...(args.length ? ['--', ...args] : [])], {
    cwd: ROOT,
    env: { CORS_WORKERS: '1', ...env },
  });
  children.push(child);
  const output = collectOutput(child);
  return new Promise<{ code: number | null; output: string }>((resolve) =>
    child.on('exit', (code) => resolve({ code, output: output() })),
  );
}

interface JsonSuite {
  title: string;
  suites?: JsonSuite[];
  specs?: { title: string; tests: { projectName: string; results: { status: string }[] }[] }[];
}

/** `project case › request` → the statuses of its results, from a merged results.json. */
export function results(file: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const walk = (suite: JsonSuite, parent: string) => {
    const title = suite.title.endsWith('.ts') ? parent : suite.title;
    for (const spec of suite.specs ?? [])
      for (const t of spec.tests) {
        const key = `${t.projectName} ${title} › ${spec.title}`;
        found.set(key, [...(found.get(key) ?? []), ...t.results.map((r) => r.status)]);
      }
    for (const child of suite.suites ?? []) walk(child, title);
  };
  for (const suite of (JSON.parse(readFileSync(file, 'utf8')) as { suites: JsonSuite[] }).suites) walk(suite, '');
  return found;
}

/** Requests of writeCases(n): two per case (oneRequest: one per plain case), as `[case, request]`. */
export const requestsOf = (n: number, oneRequest = false) =>
  Array.from({ length: n }, (_, i) => {
    const id = `live-${String(i + 1).padStart(2, '0')}`;
    return (i + 1) % 4 === 0
      ? [
          [id, 'first'],
          [id, 'after-change'],
        ]
      : [[id, 'get'], ...(oneRequest ? [] : [[id, 'other-origin']])];
  }).flat();

/** The merged conformance.json's checks: `case › request › client` → status. */
export function checks(reports: string): Record<string, string> {
  const report = JSON.parse(readFileSync(path.join(reports, 'conformance.json'), 'utf8')) as {
    checks: Record<string, { status: string }>;
  };
  return Object.fromEntries(Object.entries(report.checks).map(([key, check]) => [key, check.status]));
}

/**
 * The reports of one run (written by an unsharded nightly itself, or merged from shards), every case × request ×
 * client exactly once, each with `status`.
 */
export function assertMergedReports(reports: string, n: number, status: 'passed' | 'failed', oneRequest = false) {
  const merged = results(path.join(reports, 'results.json'));
  const expected = requestsOf(n, oneRequest)
    .map(([id, request]) => `raw ${id} › ${request}`)
    .sort();
  assert.deepEqual([...merged.keys()].sort(), expected);
  for (const [name, statuses] of merged) assert.deepEqual(statuses, [status], name);
  assert.deepEqual(
    checks(reports),
    Object.fromEntries(
      requestsOf(n, oneRequest)
        .map(([id, request]) => `${id} › ${request} › raw`)
        .sort()
        .map((key) => [key, status]),
    ),
  );
  for (const file of ['conformance/index.html', 'summary.md', 'observations.json', 'html/index.html', 'junit.xml'])
    assert.ok(existsSync(path.join(reports, file)), `${file} in the merged reports`);
}

/** The emulator's request log, read over the wire as the browser checks read it. */
export function requestLogOf(emulator: Record<string, string>): RequestLogClient {
  const agent = new Agent({ connect: { ca: readFileSync(emulator.NODE_EXTRA_CA_CERTS, 'utf8') } });
  return new RequestLogClient(emulator.R2_EMULATOR_LOG_URL, emulator.CLOUDFLARE_API_TOKEN, agent);
}
