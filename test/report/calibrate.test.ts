/**
 * Calibration end to end: the suite runs the cases that observe the profile's fields, on the emulator as it is
 * (every field confirmed) and on one whose profile differs in four fields (`R2_EMULATOR_FAULT=other-profile`):
 * `r2-cors calibrate` must name exactly those four.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadCases } from '../../harness/cases/load.ts';
import { PROBES } from '../../harness/report/calibrate.ts';
import { r2cors } from '../cli/run-cli.ts';
import { ONE_WORKER } from '../selftest/run-suite.ts';
import { tempDir } from '../temp-dir.ts';
import { runWithReports } from './run-reports.ts';

/** The observing cases, copied into a folder of their own (those that name no policy file beside them). */
function observersFolder(): string {
  const dir = tempDir('r2-cors-observers-');
  const wanted = new Set(PROBES.flatMap((p) => p.observers.map((o) => o.split(' › ')[0])));
  for (const c of loadCases(['cases']).cases) {
    if (!wanted.has(c.id) || /^\s+file:/m.test(readFileSync(c.file, 'utf8'))) continue;
    copyFileSync(c.file, path.join(dir, path.basename(c.file)));
  }
  return dir;
}

/**
 * Fields no case can observe yet, which calibrate must call "not observed" rather than confirm. None since
 * upload-part-checksum-not-implemented observes partChecksumsNotImplemented; a field added to the profile
 * without an observing case goes here until one exists.
 */
const UNOBSERVABLE: string[] = [];

function verdicts(observations: string): Record<string, string> {
  const cli = r2cors(['calibrate', observations, '--json']);
  const result = JSON.parse(cli.stdout) as { fields: { field: string; verdict: string }[] };
  return Object.fromEntries(result.fields.map((f) => [f.field, f.verdict]));
}

test('calibrate: every field confirmed on the emulator; exactly the changed fields on another profile', async () => {
  const cases = observersFolder();
  // Two runs of their own (emulator, state, reports), at once.
  const [plain, other] = await Promise.all([
    runWithReports({ ...ONE_WORKER, CORS_CASES: cases }),
    runWithReports({ ...ONE_WORKER, CORS_CASES: cases, R2_EMULATOR_FAULT: 'other-profile' }),
  ]);
  assert.equal(plain.code, 0, plain.output);

  const confirmed = verdicts(path.join(plain.dir, 'observations.json'));
  assert.deepEqual(
    Object.entries(confirmed).filter(([field, v]) => v !== 'confirmed' && !UNOBSERVABLE.includes(field)),
    [],
    'every field of the profile that a case can observe is confirmed on the emulator',
  );
  for (const field of UNOBSERVABLE) assert.equal(confirmed[field], 'not observed', field);
  assert.equal(r2cors(['calibrate', path.join(plain.dir, 'observations.json')]).status, 0);

  const changed = verdicts(path.join(other.dir, 'observations.json'));
  assert.deepEqual(
    Object.entries(changed)
      .filter(([field, v]) => v !== 'confirmed' && !UNOBSERVABLE.includes(field))
      .map(([field, v]) => `${field}: ${v}`),
    [
      'wildcardAllowOrigin: contradicted',
      'listSeparator: contradicted',
      'maxAgeOnActual: contradicted',
      'partChecksumsNotImplemented: contradicted',
    ],
  );
  const text = r2cors(['calibrate', path.join(other.dir, 'observations.json')]);
  assert.equal(text.status, 1, 'a contradicted field is a finding');
  assert.match(text.stdout, /^listSeparator +contradicted +profile: ", "; seen: ","$/m);
  assert.match(text.stdout, /^wildcardAllowOrigin +contradicted +profile: "star"; seen: "echo"$/m);
  assert.match(
    text.stdout,
    /^partChecksumsNotImplemented +contradicted +profile: \{"algorithm":"sha256","notImplemented":true\}; seen: \{"algorithm":"sha256","notImplemented":false\}$/m,
  );
});
