/** The browsers' known deviations from the Fetch standard (deviations.yaml), read once. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export interface Deviation {
  test: string;
  reason: string;
}

let cache: Record<string, Deviation[]> | undefined;

export function deviationsOf(browser: string): Deviation[] {
  // CORS_DEVIATIONS names another file (the self-tests use their own).
  const file = process.env.CORS_DEVIATIONS ?? new URL('./deviations.yaml', import.meta.url);
  cache ??= (parse(readFileSync(file, 'utf8')) ?? {}) as Record<string, Deviation[]>;
  return cache[browser] ?? [];
}
