/**
 * The one in-memory shape of a bucket CORS policy. Every format R2 accepts (dashboard JSON, the REST/wrangler
 * JSON, S3 XML) reads into it and writes out of it; nothing else in the harness looks at a format.
 */

/** The only methods R2 accepts in a rule (R2 docs, "Configure CORS"; OPTIONS and `*` are refused). */
export const CORS_METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'] as const;
export type CorsMethod = (typeof CORS_METHODS)[number];

export interface CorsRule {
  /** Optional rule name. The dashboard format cannot hold one. */
  id?: string;
  allowedOrigins: string[];
  allowedMethods: string[];
  /** `undefined` (field absent) and `[]` are kept apart so that a format round-trips exactly. */
  allowedHeaders?: string[];
  exposeHeaders?: string[];
  maxAgeSeconds?: number;
}

export interface CorsPolicy {
  rules: CorsRule[];
}

export type PolicyFormat = 'dashboard' | 'rules' | 'xml';
export const POLICY_FORMATS: readonly PolicyFormat[] = ['dashboard', 'rules', 'xml'];

/** A location inside a document: object keys and array indexes, outermost first. */
export type DocPath = (string | number)[];

/** `['rules', 0, 'allowed', 'origins', 1]` → `rules[0].allowed.origins[1]` */
export function formatPath(path: DocPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

/** A message prefixed with the path it is about, for places that cannot point at a line (XML). */
export function atPath(path: DocPath, message: string): string {
  const where = formatPath(path);
  return where ? `${where}: ${message}` : message;
}
