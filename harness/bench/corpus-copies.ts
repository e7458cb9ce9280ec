/**
 * The corpus copied N times into a temporary folder, each case's id (and file name) suffixed `-c1` … `-cN`, as a
 * user's growing corpus or a sharded nightly looks: N cases per behaviour, all in one run. Used by the scale
 * self-test and `npm run bench:propagation`; never committed.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Case files under `from`, relative to it (other files, such as policy files, are copied as they are). */
function walk(from: string, under = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(from, under)).sort()) {
    const rel = path.join(under, name);
    if (statSync(path.join(from, rel)).isDirectory()) out.push(...walk(from, rel));
    else out.push(rel);
  }
  return out;
}

/**
 * Copies every folder of `sources` into one new temporary folder (each under its own name), with every case
 * file written `copies` times. Policy files referenced by a case (`file: ../policies/x.json`) keep their
 * relative place. Returns the folder.
 */
export function copyCorpus(sources: string[], copies: number): string {
  const into = mkdtempSync(path.join(tmpdir(), `r2-cors-corpus-x${copies}-`));
  for (const source of sources) {
    const root = path.join(into, path.basename(path.resolve(source)));
    for (const rel of walk(source)) {
      const file = path.join(source, rel);
      mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      if (!/\.ya?ml$/.test(rel)) {
        cpSync(file, path.join(root, rel));
        continue;
      }
      const text = readFileSync(file, 'utf8');
      const id = path.basename(rel).replace(/\.ya?ml$/, '');
      const idLine = new RegExp(`^id:[ \\t]*${id}[ \\t]*$`, 'm');
      if (!idLine.test(text)) throw new Error(`${file}: no line 'id: ${id}' to suffix`);
      for (let n = 1; n <= copies; n++) {
        const copy = `${id}-c${n}`;
        writeFileSync(path.join(root, path.dirname(rel), `${copy}.yaml`), text.replace(idLine, `id: ${copy}`));
      }
    }
  }
  return into;
}
