#!/usr/bin/env node
// Makes a fresh clone ready to run: installs the npm packages from the lockfile when they are missing or older
// than the lockfile. Plain JavaScript, because nothing else (not even tsx) is installed when it first runs.
// It is the `pre` step of `npm test` and `npm run conformance`, so a newcomer types one command.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const lock = `${root}/package-lock.json`;
const installed = `${root}/node_modules/.package-lock.json`;

const stale = !existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs;
if (stale) {
  console.log('Installing npm packages from package-lock.json (npm ci)…');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('npm ci failed; see above. The npm registry must be reachable.');
    process.exit(result.status ?? 1);
  }
}
