/** The browsers' known deviations from the Fetch standard (deviations.yaml), read once. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export interface Deviation {
  test: string;
  reason: string;
}

let cache: Record<string, Deviation[]> | undefined;

export function deviationsOf(browser: string): Deviation[] {
  cache ??= (parse(readFileSync(new URL('./deviations.yaml', import.meta.url), 'utf8')) ?? {}) as Record<
    string,
    Deviation[]
  >;
  return cache[browser] ?? [];
}
