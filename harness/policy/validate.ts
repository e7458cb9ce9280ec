/**
 * R2's validation of a CORS policy, on the canonical model. Each problem says, besides a sentence for people,
 * how R2 itself refuses the policy on each API, so that the emulator answers with R2's own error.
 *
 * Rules and their evidence (shared/reference/r2-cors.md §1–2):
 * - origins are `scheme://host[:port]`, no path or trailing slash; only valid origins accepted (changelog
 *   2023-10-23); a bad origin answers `400 MalformedXML` on the S3 API [seen];
 * - one `*` per origin [seen]; a port wildcard is refused [seen];
 * - methods only GET PUT POST DELETE HEAD [doc]; AWS answers an unsupported one with `InvalidRequest`;
 * - MaxAgeSeconds at most 86400 [doc];
 * - empty header names refused (changelog 2024-01-30); a header name is an HTTP token (RFC 9110 §5.1, §5.6.2),
 *   and R2 answers it in headers, so a name that is not one (`x-€`, CR/LF) is refused; how R2 words that
 *   refusal is [open] (`R2_POLICY_VALIDATION` in harness/cors/profile.ts).
 * Where R2 is silent (rule count, document size, which S3 code a range error gets) AWS S3's limits and codes
 * are used, and the constant below says so.
 */
import { R2_POLICY_VALIDATION } from '../cors/profile.ts';
import { CORS_METHODS, type CorsPolicy, type DocPath } from './model.ts';

/** How R2 turns the problem down: as a schema violation (`MalformedXML`) or a bad value (`InvalidRequest`). */
export type RejectionKind = 'malformed' | 'invalid';

export interface PolicyProblem {
  /** Where the problem is, in the terms of the document it came from (see `pathInFormat`). */
  path: DocPath;
  atKey?: boolean;
  message: string;
  kind: RejectionKind;
}

/** A path into the canonical model: the rule, its field, and the item of a list field. */
export type CanonicalField =
  | 'id'
  | 'allowedOrigins'
  | 'allowedMethods'
  | 'allowedHeaders'
  | 'exposeHeaders'
  | 'maxAgeSeconds';
export interface CanonicalLocation {
  rule?: number;
  field?: CanonicalField;
  item?: number;
}

export interface CanonicalProblem extends CanonicalLocation {
  message: string;
  kind: RejectionKind;
}

/** [open] R2 publishes no rule-count limit; AWS S3 allows 100 rules. */
export const MAX_RULES = 100;
/** [open] R2 publishes no size limit; AWS S3 refuses a CORS document over 64 KB. */
export const MAX_DOCUMENT_BYTES = 64 * 1024;
/** [doc] R2: "the maximum value (86400)". */
export const MAX_AGE_LIMIT = 86_400;
/** AWS S3 limit on a rule ID; R2 is silent. */
export const MAX_ID_LENGTH = 255;

const SCHEME_AND_REST = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/;
/** RFC 9110 §5.6.2: token = 1*tchar. `*` is a tchar, so `*` and `x-amz-meta-*` are tokens too. */
const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A value as it can be shown on one line: control characters escaped (CR/LF as \r\n). */
function shown(value: string): string {
  return JSON.stringify(value)
    .slice(1, -1)
    .replace(/[\x7f-\x9f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Why an AllowedOrigin value is refused, or undefined when R2 takes it. */
export function originProblem(origin: string): string | undefined {
  if (origin === '*') return undefined;
  const wildcards = origin.split('*').length - 1;
  if (wildcards > 1) return `origin '${origin}' has ${wildcards} '*' wildcards; R2 allows at most one`;
  const match = SCHEME_AND_REST.exec(origin);
  if (!match) return `origin '${origin}' is not scheme://host[:port] (for example https://example.com)`;
  const rest = match[2];
  const pathStart = rest.search(/[/?#]/);
  if (pathStart >= 0) {
    return rest.slice(pathStart) === '/'
      ? `origin '${origin}' ends with '/'; an origin has no path, so write '${origin.slice(0, -1)}'`
      : `origin '${origin}' has a path, query or fragment; an origin is only scheme://host[:port]`;
  }
  const hostPort = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]*)(?::(.*))?$/.exec(rest);
  if (!hostPort || hostPort[1] === '') return `origin '${origin}' has no host`;
  const port = hostPort[2];
  if (port !== undefined) {
    if (port.includes('*')) return `origin '${origin}' has a wildcard port; R2 refuses port wildcards`;
    const n = Number(port);
    if (!/^[0-9]{1,5}$/.test(port) || n < 1 || n > 65535) return `origin '${origin}' has an invalid port '${port}'`;
  }
  if (/\s/.test(origin)) return `origin '${origin}' contains white space`;
  return undefined;
}

export function validatePolicy(policy: CorsPolicy): CanonicalProblem[] {
  const problems: CanonicalProblem[] = [];
  if (policy.rules.length === 0) {
    problems.push({ message: 'a policy needs at least one rule (to remove a policy, delete it)', kind: 'malformed' });
  }
  if (policy.rules.length > MAX_RULES) {
    problems.push({ message: `${policy.rules.length} rules; at most ${MAX_RULES} are allowed`, kind: 'invalid' });
  }
  policy.rules.forEach((rule, r) => {
    if (rule.id !== undefined && rule.id.length > MAX_ID_LENGTH) {
      problems.push({
        rule: r,
        field: 'id',
        message: `id is longer than ${MAX_ID_LENGTH} characters`,
        kind: 'invalid',
      });
    }
    if (rule.allowedOrigins.length === 0) {
      problems.push({ rule: r, field: 'allowedOrigins', message: 'needs at least one origin', kind: 'malformed' });
    }
    rule.allowedOrigins.forEach((origin, i) => {
      const why = originProblem(origin);
      if (why) problems.push({ rule: r, field: 'allowedOrigins', item: i, message: why, kind: 'malformed' });
    });
    if (rule.allowedMethods.length === 0) {
      problems.push({ rule: r, field: 'allowedMethods', message: 'needs at least one method', kind: 'malformed' });
    }
    rule.allowedMethods.forEach((method, i) => {
      if (!(CORS_METHODS as readonly string[]).includes(method)) {
        const hint = (CORS_METHODS as readonly string[]).includes(method.toUpperCase())
          ? ` (methods are upper case: '${method.toUpperCase()}')`
          : '';
        problems.push({
          rule: r,
          field: 'allowedMethods',
          item: i,
          message: `method '${method}' is not allowed; use ${CORS_METHODS.join(', ')}${hint}`,
          kind: 'invalid',
        });
      }
    });
    for (const field of ['allowedHeaders', 'exposeHeaders'] as const) {
      rule[field]?.forEach((name, i) => {
        if (name.trim() === '') {
          problems.push({ rule: r, field, item: i, message: 'header name is empty', kind: 'malformed' });
        } else if (!HTTP_TOKEN.test(name)) {
          problems.push({
            rule: r,
            field,
            item: i,
            message: `header name '${shown(name)}' is not an HTTP token (letters, digits and !#$%&'*+-.^_\`|~ only)`,
            kind: R2_POLICY_VALIDATION.headerNameNotToken,
          });
        } else if (name.split('*').length > 2) {
          problems.push({ rule: r, field, item: i, message: `'${name}' has more than one '*'`, kind: 'invalid' });
        }
      });
    }
    const maxAge = rule.maxAgeSeconds;
    if (maxAge !== undefined && (!Number.isInteger(maxAge) || maxAge < 0 || maxAge > MAX_AGE_LIMIT)) {
      problems.push({
        rule: r,
        field: 'maxAgeSeconds',
        message: `max age ${maxAge} is outside 0…${MAX_AGE_LIMIT} seconds`,
        kind: 'invalid',
      });
    }
  });
  return problems;
}

/** The error R2's S3 API answers for a refused PutBucketCors body. */
export function s3Rejection(problems: readonly { kind: RejectionKind; message: string }[]): {
  status: 400;
  code: 'MalformedXML' | 'InvalidRequest';
  message: string;
} {
  const malformed = problems.find((p) => p.kind === 'malformed');
  if (malformed || problems.length === 0) {
    return {
      status: 400,
      code: 'MalformedXML',
      message: 'The XML you provided was not well formed or did not validate against our published schema.',
    };
  }
  return { status: 400, code: 'InvalidRequest', message: problems[0].message };
}

/** The error R2's REST API answers for a refused policy: code 10040 [seen]. */
export function restRejection(problems: readonly { message: string }[]): {
  status: 400;
  code: 10040;
  message: string;
} {
  const detail = problems[0]?.message;
  return { status: 400, code: 10040, message: detail ? `JSON not well formed: ${detail}` : 'JSON not well formed' };
}
