import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { loadCases } from '../../harness/cases/load.ts';
import { readCasesFile, writeCasesFile } from '../../harness/conformance/run-cases.ts';

describe('the corpus', () => {
  const result = loadCases(['cases']);
  test('loads with no problems', () => {
    assert.deepEqual(result.problems, []);
    assert.ok(result.cases.length >= 10, `only ${result.cases.length} cases`);
  });
  test('every case id is its file name and unique', () => {
    const ids = result.cases.map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const c of result.cases) assert.ok(c.file.endsWith(`/${c.id}.yaml`), c.file);
  });
  test('kept by the set-up for the workers, every case reads back whole, and still points into its file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'r2-cors-cases-'));
    try {
      const file = path.join(dir, 'run.cases.bin');
      writeCasesFile(result.cases, file);
      const back = readCasesFile(file);
      const data = (cases: typeof back) => cases.map(({ locate: _, ...rest }) => rest);
      assert.deepStrictEqual(data(back), data(result.cases));
      // Bytes of seeded files (cases/assets/) come back as bytes.
      assert.ok(back.some((c) => c.objects.some((o) => o.bytes instanceof Uint8Array)));
      for (const [i, c] of back.entries()) {
        for (const at of [['id'], ...c.steps.map((s) => s.path)])
          assert.deepEqual(c.locate(at), result.cases[i].locate(at), `${c.id} ${at.join('/')}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test('every request asserts something', () => {
    for (const c of result.cases) {
      for (const step of c.steps) {
        if (step.kind !== 'request') continue;
        const e = step.request.expect ?? {};
        assert.ok(e.preflight || e.response || e.browser, `${c.id} › ${step.request.id}`);
      }
    }
  });
});

describe('steps', () => {
  const { cases } = loadCases(['cases']);
  const byId = (id: string) => {
    const found = cases.find((c) => c.id === id);
    assert.ok(found, id);
    return found;
  };

  test('the simple form becomes apply, then the requests in order, with their paths', () => {
    const c = byId('scheme-must-match');
    assert.deepEqual(
      c.steps.map((s) => [s.kind, s.path.join('/')]),
      [
        ['apply', 'policy'],
        ['request', 'requests/0'],
        ['request', 'requests/1'],
      ],
    );
    const apply = c.steps[0];
    assert.ok(apply.kind === 'apply');
    assert.equal(apply.format, 'dashboard');
    assert.deepEqual(apply.policy, { rules: [{ allowedOrigins: ['https://example.com'], allowedMethods: ['GET'] }] });
  });

  test('policy: null applies no policy', () => {
    const apply = byId('no-policy-no-cors-headers').steps[0];
    assert.ok(apply.kind === 'apply');
    assert.equal(apply.policy, null);
  });

  test('the sequence form keeps apply, request and purge in order', () => {
    const c = byId('cache-keeps-old-headers');
    assert.deepEqual(
      c.steps.map((s) => s.kind),
      ['apply', 'request', 'apply', 'request', 'purge', 'request'],
    );
    const purge = c.steps[4];
    assert.ok(purge.kind === 'purge');
    assert.deepEqual([purge.everything, purge.keys], [false, ['logo.svg']]);
  });

  test('a step expected to be refused keeps its invalid policy, to be sent as written', () => {
    const apply = byId('origin-with-path-refused').steps[0];
    assert.ok(apply.kind === 'apply');
    assert.deepEqual(apply.rejected?.s3, 'MalformedXML');
    assert.deepEqual(apply.policy?.rules[0].allowedOrigins, ['https://static.example.com/']);
  });

  test('locate points at a field of the case file', () => {
    const c = byId('scheme-must-match');
    // `- id: http-origin` is the second request; its `from` line follows.
    const at = c.locate(['requests', 1, 'from']);
    assert.deepEqual(at, { line: 26, col: 11 });
  });
});

describe('objects seeded from a file', () => {
  test('bodyFile is read, relative to the case file, into the bytes the set-up uploads', () => {
    const { cases } = loadCases(['cases/markup/img-crossorigin-canvas-readable.yaml']);
    const [object] = cases[0].objects;
    assert.equal(object.bodyFile, '../assets/pixel.png');
    assert.deepEqual(object.bytes, readFileSync('cases/assets/pixel.png'));
  });
});
