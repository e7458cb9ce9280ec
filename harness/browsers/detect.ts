/**
 * Which browsers a run uses, and how to launch them. Playwright's own browsers when installed
 * (`npx playwright install`); otherwise the system's: Debian's `chromium`, and Debian's `firefox-esr` through
 * Playwright's `moz-firefox` channel (WebDriver BiDi). WebKit exists only as Playwright's own.
 *
 * CORS_BROWSERS=chromium,firefox,webkit chooses (`none`: raw checks only); a browser named there and not found
 * stops the run with how to install it. Unset: every browser found is used. CORS_CHROMIUM_PATH and
 * CORS_FIREFOX_PATH point at other executables.
 */
import { existsSync } from 'node:fs';
import type { LaunchOptions } from '@playwright/test';
import { chromium, firefox, webkit } from '@playwright/test';
import { leafSpkiHash } from '../tls/local-ca.ts';

export type BrowserName = 'chromium' | 'firefox' | 'webkit';
export const BROWSERS: readonly BrowserName[] = ['chromium', 'firefox', 'webkit'];

export interface BrowserChoice {
  name: BrowserName;
  source: 'playwright' | 'system';
  launchOptions: LaunchOptions;
}

const INSTALL: Record<BrowserName, string> = {
  chromium: "'npx playwright install chromium', or Debian's: 'apt-get install chromium'",
  firefox: "'npx playwright install firefox', or Debian's: 'apt-get install firefox-esr'",
  webkit: "'npx playwright install webkit' (WebKit exists only as Playwright's own)",
};

/** Chromium trusts the local CA's server certificates by their shared key (harness/tls/local-ca.ts). */
function chromiumArgs(): string[] {
  return [`--ignore-certificate-errors-spki-list=${leafSpkiHash()}`];
}

/**
 * Firefox sends requests for localhost straight out unless told to use the proxy for them too. Without Fission
 * its pages share content processes instead of one per site: a page at a new origin costs about a third less,
 * and the checks' results are the same (README, "Browsers").
 */
const FIREFOX_PREFS = { 'network.proxy.allow_hijacking_localhost': true, 'fission.autostart': false };

function playwrightOwn(name: BrowserName): string | undefined {
  try {
    const path = { chromium, firefox, webkit }[name].executablePath();
    return path && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

function find(name: BrowserName, env: NodeJS.ProcessEnv): BrowserChoice | undefined {
  const override =
    name === 'chromium' ? env.CORS_CHROMIUM_PATH : name === 'firefox' ? env.CORS_FIREFOX_PATH : undefined;
  if (!override && playwrightOwn(name)) {
    const own: Record<BrowserName, LaunchOptions> = {
      chromium: { args: chromiumArgs() },
      firefox: { firefoxUserPrefs: FIREFOX_PREFS },
      webkit: {},
    };
    return { name, source: 'playwright', launchOptions: own[name] };
  }
  if (name === 'chromium') {
    const path = override ?? '/usr/bin/chromium';
    if (!existsSync(path)) return undefined;
    return { name, source: 'system', launchOptions: { executablePath: path, args: chromiumArgs() } };
  }
  if (name === 'firefox') {
    const path = override ?? ['/usr/lib/firefox-esr/firefox-esr', '/usr/bin/firefox-esr'].find((p) => existsSync(p));
    if (!path || !existsSync(path)) return undefined;
    return {
      name,
      source: 'system',
      launchOptions: { channel: 'moz-firefox', executablePath: path, firefoxUserPrefs: FIREFOX_PREFS },
    };
  }
  return undefined;
}

export function detectBrowsers(env: NodeJS.ProcessEnv = process.env): { found: BrowserChoice[]; notes: string[] } {
  const asked = env.CORS_BROWSERS?.trim();
  if (asked === 'none') return { found: [], notes: [] };
  const names = asked ? asked.split(',').map((n) => n.trim()) : [...BROWSERS];
  const unknown = names.filter((n) => !BROWSERS.includes(n as BrowserName));
  if (unknown.length > 0)
    throw new Error(`CORS_BROWSERS: unknown browser(s) ${unknown.join(', ')}; use ${BROWSERS.join(', ')} or none`);
  const found: BrowserChoice[] = [];
  const notes: string[] = [];
  const missing: string[] = [];
  for (const name of names as BrowserName[]) {
    const choice = find(name, env);
    if (choice) found.push(choice);
    else missing.push(`${name} is not installed: install Playwright's with ${INSTALL[name]}`);
  }
  if (asked && missing.length > 0)
    throw new Error(`CORS_BROWSERS asks for browsers that are missing:\n  ${missing.join('\n  ')}`);
  notes.push(...missing.map((m) => `${m}; its checks are left out of this run`));
  return { found, notes };
}

/**
 * The browsers a run's `--project` options select, matched as Playwright 1.64 matches them (its
 * `filterProjects`): case-insensitively, `*` as a wildcard, and `--project a b` naming every word up to the next
 * option. No `--project`: every browser found. Global set-up reads this from the command line, as it gets no
 * list of the selected projects from Playwright, and gives a sequence a bucket for each selected browser only.
 */
export function selectedBrowsers(found: string[], argv: readonly string[] = process.argv): string[] {
  const named: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--project=')) named.push(argv[i].slice('--project='.length));
    else if (argv[i] === '--project')
      for (; i + 1 < argv.length && !argv[i + 1].startsWith('-'); i++) named.push(argv[i + 1]);
  }
  if (named.length === 0) return found;
  const patterns = named.map((name) => new RegExp(`^${name.split('*').map(escapeRegExp).join('.*')}$`, 'i'));
  return found.filter((browser) => patterns.some((pattern) => pattern.test(browser)));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
