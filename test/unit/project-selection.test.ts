/**
 * Which browsers a run's `--project` options select (harness/browsers/detect.ts): a sequence gets a bucket for
 * each of them, so a pattern or a list must select what Playwright itself runs, no more.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectedBrowsers } from '../../harness/browsers/detect.ts';

const FOUND = ['chromium', 'firefox'];
const argv = (...args: string[]) => ['/usr/bin/node', 'node_modules/@playwright/test/cli.js', 'test', ...args];

test('no --project: every browser found', () => {
  assert.deepEqual(selectedBrowsers(FOUND, argv()), FOUND);
  assert.deepEqual(selectedBrowsers(FOUND, argv('--grep', 'origin')), FOUND);
});

test('exact names, in either form, case-insensitively as Playwright matches them', () => {
  assert.deepEqual(selectedBrowsers(FOUND, argv('--project=raw')), []);
  assert.deepEqual(selectedBrowsers(FOUND, argv('--project', 'firefox')), ['firefox']);
  assert.deepEqual(selectedBrowsers(FOUND, argv('--project=Chromium', '--project=raw')), ['chromium']);
});

test('a pattern selects only the browsers it matches', () => {
  assert.deepEqual(selectedBrowsers(FOUND, argv('--project=chrom*')), ['chromium']);
  assert.deepEqual(selectedBrowsers(FOUND, argv('--project=*fox')), ['firefox']);
  assert.deepEqual(selectedBrowsers(FOUND, argv('--project=*')), FOUND);
  // Only `*` is a wildcard: the dot of a name is a dot.
  assert.deepEqual(selectedBrowsers(FOUND, argv('--project=chromiu.')), []);
});

test('--project takes every word up to the next option', () => {
  assert.deepEqual(selectedBrowsers(FOUND, argv('--project', 'raw', 'firefox', '--workers=1')), ['firefox']);
  assert.deepEqual(selectedBrowsers(FOUND, argv('--project', 'raw', '--grep', 'firefox')), []);
});
