/**
 * Makes sure the browsers the suite drives are there: Playwright's own where `npx playwright install` can
 * fetch them; otherwise Debian's chromium and firefox-esr, installed with apt-get when this runs as root.
 * Run by `npm run conformance` and `npm test` once the npm packages are installed. Never fatal: what is still
 * missing is said, and the suite then runs without it. Which browser counts as present is decided by the same
 * detection the suite uses (harness/browsers/detect.ts).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { detectBrowsers } from '../browsers/detect.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const DEBIAN_PACKAGE: Record<string, string> = { chromium: 'chromium', firefox: 'firefox-esr' };

function missing(): string[] {
  const found = detectBrowsers({ ...process.env, CORS_BROWSERS: undefined }).found.map((b) => b.name);
  return ['chromium', 'firefox'].filter((name) => !found.includes(name as 'chromium'));
}

if (process.env.CORS_BROWSERS !== 'none') {
  let lacking = missing();
  if (lacking.length > 0) {
    console.log(
      `Browsers missing: ${lacking.join(', ')}. Trying Playwright's own (npx playwright install ${lacking.join(' ')})…`,
    );
    spawnSync(process.execPath, [`${root}/node_modules/@playwright/test/cli.js`, 'install', ...lacking], {
      cwd: root,
      stdio: 'ignore',
      timeout: 600_000,
    });
    lacking = missing();
  }
  const apt = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).stdout.trim();
  if (lacking.length > 0 && process.getuid?.() === 0 && apt) {
    const packages = lacking.map((name) => DEBIAN_PACKAGE[name]);
    console.log(
      `Playwright's browsers cannot be downloaded here; installing Debian's: apt-get install ${packages.join(' ')}…`,
    );
    spawnSync('apt-get', ['update'], { stdio: 'ignore' });
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    lacking = missing();
  }
  if (lacking.length > 0) {
    console.log(
      `Still missing: ${lacking.join(', ')}. Install Playwright's ('npx playwright install ${lacking.join(' ')}') or, on ` +
        `Debian, 'sudo apt-get install ${lacking.map((name) => DEBIAN_PACKAGE[name]).join(' ')}'. The suite runs without them.`,
    );
  }
}
