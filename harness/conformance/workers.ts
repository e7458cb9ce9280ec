/**
 * How many Playwright workers a run has (README, "Browsers" and "Waves"), read from the environment in this one
 * place: playwright.config.ts sets them, and the wave feed (wave-feed.ts) tells the coordinator how many the
 * projects hold at once.
 */
import { plainError } from './plain-error.ts';

/** CORS_WORKERS: every worker of the run (default 4); checks wait on the network, so more than the cores. */
export function workersFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return wholeNumber(env, 'CORS_WORKERS', 4);
}

/**
 * CORS_BROWSER_WORKERS: workers per browser project (default 1). Each launches a browser of its own and
 * navigates a page to every origin its cases name, so one per browser does the least work; its batches keep
 * its checks side by side.
 */
export function browserWorkersFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return wholeNumber(env, 'CORS_BROWSER_WORKERS', 1);
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string, byDefault: number): number {
  const value = env[name];
  if (value === undefined || value === '') return byDefault;
  const n = Number(value);
  if (Number.isInteger(n) && n >= 1) return n;
  throw plainError(`${name}=${value}: expected a whole number, 1 or more`);
}
