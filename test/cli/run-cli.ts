/** Runs the real `r2-cors` entry point in a child process, as a user would. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../harness/cli/r2-cors.mjs', import.meta.url));

export function r2cors(args: string[], input?: string, env: NodeJS.ProcessEnv = process.env) {
  const result = spawnSync(process.execPath, ['--', BIN, ...args], { cwd: ROOT, input, env, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
