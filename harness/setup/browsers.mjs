#!/usr/bin/env node
// Makes sure the browsers the suite drives are there: Playwright's own where `npx playwright install` can fetch
// them; otherwise Debian's chromium and firefox-esr, installed with apt-get when this runs as root. Plain
// JavaScript, run by `npm run conformance` and `npm test` after the npm packages are installed.
// Never fatal: what is still missing is said, and the suite then runs without it (harness/browsers/detect.ts).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
if (process.env.CORS_BROWSERS === 'none') process.exit(0);

const { chromium, firefox } = await import('@playwright/test');
const own = (type) => {
  try {
    return existsSync(type.executablePath());
  } catch {
    return false;
  }
};
const system = {
  chromium: () => existsSync(process.env.CORS_CHROMIUM_PATH ?? '/usr/bin/chromium'),
  firefox: () =>
    ['/usr/lib/firefox-esr/firefox-esr', '/usr/bin/firefox-esr', process.env.CORS_FIREFOX_PATH].some(
      (p) => p && existsSync(p),
    ),
};
const missing = () =>
  [
    ['chromium', own(chromium) || system.chromium()],
    ['firefox', own(firefox) || system.firefox()],
  ]
    .filter(([, present]) => !present)
    .map(([name]) => name);

let lacking = missing();
if (lacking.length === 0) process.exit(0);

console.log(
  `Browsers missing: ${lacking.join(', ')}. Trying Playwright's own (npx playwright install ${lacking.join(' ')})…`,
);
const playwright = spawnSync(
  process.execPath,
  [`${root}/node_modules/@playwright/test/cli.js`, 'install', ...lacking],
  {
    cwd: root,
    stdio: 'ignore',
    timeout: 600_000,
  },
);
lacking = missing();
if (playwright.status !== 0 && lacking.length > 0) {
  const packages = lacking.map((name) => (name === 'firefox' ? 'firefox-esr' : name));
  const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).stdout.trim();
  if (process.getuid?.() === 0 && apt) {
    console.log(
      `Playwright's browsers cannot be downloaded here; installing Debian's: apt-get install ${packages.join(' ')}…`,
    );
    spawnSync('apt-get', ['update'], { stdio: 'ignore' });
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
  lacking = missing();
}
if (lacking.length > 0) {
  console.log(
    `Still missing: ${lacking.join(', ')}. Install Playwright's ('npx playwright install ${lacking.join(' ')}') or, on Debian, ` +
      `'sudo apt-get install ${lacking.map((n) => (n === 'firefox' ? 'firefox-esr' : n)).join(' ')}'. The suite runs without them.`,
  );
}
