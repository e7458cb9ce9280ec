/**
 * Validation of data against the repo's JSON Schemas (Ajv), with Ajv's errors turned into a path into the data
 * and a sentence a person can act on. Every schema-shaped check in the harness goes through here.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import ajvErrors from 'ajv-errors';
import type { DocPath } from '../policy/model.ts';

export type SchemaName =
  | 'case.schema.json'
  | 'policy-dashboard.schema.json'
  | 'policy-rules.schema.json'
  | 'policy-xml.schema.json';

const SCHEMA_FILES: SchemaName[] = [
  'case.schema.json',
  'policy-dashboard.schema.json',
  'policy-rules.schema.json',
  'policy-xml.schema.json',
];

export interface SchemaIssue {
  path: DocPath;
  /** The problem is the key itself (an unknown key), not its value. */
  atKey: boolean;
  message: string;
}

let ajv: Ajv | undefined;
const compiled = new Map<SchemaName, ValidateFunction>();

function validatorFor(name: SchemaName): ValidateFunction {
  if (!ajv) {
    // strictRequired off: if/then and not/anyOf name keys that the branch itself does not define.
    ajv = new Ajv({ allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true });
    // ajv-errors ships CommonJS typings whose default export TypeScript sees as the module object.
    (ajvErrors as unknown as (a: Ajv) => Ajv)(ajv);
    for (const file of SCHEMA_FILES) {
      const schema = JSON.parse(readFileSync(new URL(`./${file}`, import.meta.url), 'utf8'));
      ajv.addSchema(schema, file);
    }
  }
  let fn = compiled.get(name);
  if (!fn) {
    fn = ajv.getSchema(name);
    if (!fn) throw new Error(`schema ${name} is not registered`);
    compiled.set(name, fn);
  }
  return fn;
}

export function checkSchema(name: SchemaName, value: unknown): SchemaIssue[] {
  const validate = validatorFor(name);
  if (validate(value)) return [];
  const issues: SchemaIssue[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    const issue = describeIssue(error, value);
    if (!issue) continue;
    const key = `${issue.path.join('\u0000')}|${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}

/** JSON Pointer → path, with array indexes as numbers (decided by the data, not by how the segment looks). */
function toPath(pointer: string, root: unknown): DocPath {
  if (pointer === '') return [];
  const path: DocPath = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const index = Number(segment);
      path.push(index);
      node = node[index];
    } else {
      path.push(segment);
      node = node && typeof node === 'object' ? (node as Record<string, unknown>)[segment] : undefined;
    }
  }
  return path;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  array: 'a list',
  object: 'a mapping',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  null: 'null',
};

function typeWords(type: string | string[]): string {
  const types = Array.isArray(type) ? type : type.split(',');
  return types.map((t) => TYPE_WORDS[t] ?? t).join(' or ');
}

function describeIssue(error: ErrorObject, root: unknown): SchemaIssue | undefined {
  const path = toPath(error.instancePath, root);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'if':
      // Ajv reports the failing `then` branch separately; this one only says "must match then".
      return undefined;
    case 'errorMessage':
      return { path, atKey: false, message: error.message ?? 'is invalid' };
    case 'required':
      return { path, atKey: false, message: `missing required key '${params.missingProperty}'` };
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = Object.keys((error.parentSchema?.properties as object | undefined) ?? {});
      const hint = closest(key, known);
      const message = hint ? `unknown key '${key}' (did you mean '${hint}'?)` : `unknown key '${key}'`;
      return { path: [...path, key], atKey: true, message };
    }
    case 'type':
      return { path, atKey: false, message: `must be ${typeWords(params.type as string | string[])}` };
    case 'enum':
      return {
        path,
        atKey: false,
        message: `must be one of ${(params.allowedValues as unknown[]).map(String).join(', ')}`,
      };
    case 'minItems':
      return { path, atKey: false, message: `must have at least ${params.limit} item(s)` };
    case 'minLength':
      return { path, atKey: false, message: 'must not be empty' };
    default:
      return { path, atKey: false, message: error.message ?? `fails ${error.keyword}` };
  }
}

/** The known key nearest to a typo, if it is near enough to be what was meant. */
function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
    }
    previous = current;
  }
  return previous[b.length];
}
