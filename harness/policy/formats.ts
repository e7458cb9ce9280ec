/**
 * R2's three policy formats, read into and written out of the canonical model. Reading is strict (unknown keys
 * refused, as R2 does since 2022-11-30) and every problem carries a path in the terms of the format it came
 * from, so it can be pointed at in the user's file.
 */
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { checkSchema } from '../schema/check.ts';
import type { CorsPolicy, CorsRule, DocPath, PolicyFormat } from './model.ts';
import {
  type CanonicalField,
  type CanonicalLocation,
  MAX_DOCUMENT_BYTES,
  type PolicyProblem,
  validatePolicy,
} from './validate.ts';

export type ParsedPolicy =
  | { ok: true; format: PolicyFormat; policy: CorsPolicy }
  /** `policy` is there when the document is well-formed but R2 refuses a value (to send it anyway, on purpose). */
  | { ok: false; format?: PolicyFormat; problems: PolicyProblem[]; policy?: CorsPolicy };

const FIELD_PATHS: Record<PolicyFormat, Record<CanonicalField, DocPath>> = {
  dashboard: {
    id: ['ID'],
    allowedOrigins: ['AllowedOrigins'],
    allowedMethods: ['AllowedMethods'],
    allowedHeaders: ['AllowedHeaders'],
    exposeHeaders: ['ExposeHeaders'],
    maxAgeSeconds: ['MaxAgeSeconds'],
  },
  rules: {
    id: ['id'],
    allowedOrigins: ['allowed', 'origins'],
    allowedMethods: ['allowed', 'methods'],
    allowedHeaders: ['allowed', 'headers'],
    exposeHeaders: ['exposeHeaders'],
    maxAgeSeconds: ['maxAgeSeconds'],
  },
  xml: {
    id: ['ID'],
    allowedOrigins: ['AllowedOrigin'],
    allowedMethods: ['AllowedMethod'],
    allowedHeaders: ['AllowedHeader'],
    exposeHeaders: ['ExposeHeader'],
    maxAgeSeconds: ['MaxAgeSeconds'],
  },
};

/** Where the rule list sits in each format's document. */
const RULES_AT: Record<PolicyFormat, DocPath> = {
  dashboard: [],
  rules: ['rules'],
  xml: ['CORSConfiguration', 'CORSRule'],
};

/** A canonical location written as a path into a document of the given format. */
export function pathInFormat(format: PolicyFormat, at: CanonicalLocation): DocPath {
  const path: DocPath = [...RULES_AT[format]];
  if (at.rule === undefined) return path;
  path.push(at.rule);
  if (at.field === undefined) return path;
  path.push(...FIELD_PATHS[format][at.field]);
  if (at.item !== undefined) path.push(at.item);
  return path;
}

/** A document's format by its first character: `<` XML, `[` dashboard array, `{` REST/wrangler object. */
export function detectFormat(text: string): PolicyFormat | undefined {
  const first = text.replace(/^\uFEFF/, '').trimStart()[0];
  if (first === '<') return 'xml';
  if (first === '[') return 'dashboard';
  if (first === '{') return 'rules';
  return undefined;
}

export function parsePolicyText(text: string, format: PolicyFormat | undefined = detectFormat(text)): ParsedPolicy {
  const parsed = parseWithinLimit(text, format);
  const bytes = Buffer.byteLength(text);
  if (bytes <= MAX_DOCUMENT_BYTES) return parsed;
  // Refused for its size, yet read: a case that expects R2 to refuse a large policy sends it as written.
  const size: PolicyProblem = {
    path: [],
    message: `the policy is ${bytes} bytes; at most ${MAX_DOCUMENT_BYTES} are allowed`,
    kind: 'malformed',
  };
  return { ok: false, format, problems: [size, ...(parsed.ok ? [] : parsed.problems)], policy: parsed.policy };
}

function parseWithinLimit(text: string, format: PolicyFormat | undefined): ParsedPolicy {
  if (format === undefined) {
    return fail(format, [], 'not a CORS policy: expected a JSON array (dashboard), a JSON object with "rules", or XML');
  }
  if (format === 'xml') return parseXml(text);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return fail(format, [], `not valid JSON: ${(error as Error).message}`);
  }
  return parsePolicyData(value, format);
}

/** Reads a policy that is already parsed JSON (or YAML) data: the dashboard array or the REST object. */
export function parsePolicyData(value: unknown, format: 'dashboard' | 'rules'): ParsedPolicy {
  const schema = format === 'dashboard' ? 'policy-dashboard.schema.json' : 'policy-rules.schema.json';
  const issues = checkSchema(schema, value);
  if (issues.length > 0) {
    return { ok: false, format, problems: issues.map((i) => ({ ...i, kind: 'malformed' as const })) };
  }
  const policy = format === 'dashboard' ? fromDashboard(value as DashboardRule[]) : fromRules(value as RulesDocument);
  return checked(policy, format);
}

function checked(policy: CorsPolicy, format: PolicyFormat): ParsedPolicy {
  const problems = validatePolicy(policy).map(({ rule, field, item, message, kind }) => ({
    path: pathInFormat(format, { rule, field, item }),
    message,
    kind,
  }));
  return problems.length > 0 ? { ok: false, format, problems, policy } : { ok: true, format, policy };
}

function fail(format: PolicyFormat | undefined, path: DocPath, message: string): ParsedPolicy {
  return { ok: false, format, problems: [{ path, message, kind: 'malformed' }] };
}

// --- dashboard JSON -------------------------------------------------------------------------------------------

interface DashboardRule {
  AllowedOrigins: string[];
  AllowedMethods: string[];
  AllowedHeaders?: string[];
  ExposeHeaders?: string[];
  MaxAgeSeconds?: number;
}

function fromDashboard(rules: DashboardRule[]): CorsPolicy {
  return {
    rules: rules.map((r) =>
      rule(undefined, r.AllowedOrigins, r.AllowedMethods, r.AllowedHeaders, r.ExposeHeaders, r.MaxAgeSeconds),
    ),
  };
}

function toDashboard(policy: CorsPolicy): DashboardRule[] {
  return policy.rules.map((r) =>
    dropUndefined({
      AllowedOrigins: r.allowedOrigins,
      AllowedMethods: r.allowedMethods,
      AllowedHeaders: r.allowedHeaders,
      ExposeHeaders: r.exposeHeaders,
      MaxAgeSeconds: r.maxAgeSeconds,
    }),
  );
}

// --- REST / wrangler JSON -------------------------------------------------------------------------------------

interface RulesDocument {
  rules: {
    id?: string;
    allowed: { origins: string[]; methods: string[]; headers?: string[] };
    exposeHeaders?: string[];
    maxAgeSeconds?: number;
  }[];
}

function fromRules(doc: RulesDocument): CorsPolicy {
  return {
    rules: doc.rules.map((r) =>
      rule(r.id, r.allowed.origins, r.allowed.methods, r.allowed.headers, r.exposeHeaders, r.maxAgeSeconds),
    ),
  };
}

function toRules(policy: CorsPolicy): RulesDocument {
  return {
    rules: policy.rules.map((r) =>
      dropUndefined({
        id: r.id,
        allowed: dropUndefined({ origins: r.allowedOrigins, methods: r.allowedMethods, headers: r.allowedHeaders }),
        exposeHeaders: r.exposeHeaders,
        maxAgeSeconds: r.maxAgeSeconds,
      }),
    ),
  };
}

// --- S3 XML ---------------------------------------------------------------------------------------------------

const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const XML_LISTS = new Set(['CORSRule', 'AllowedOrigin', 'AllowedMethod', 'AllowedHeader', 'ExposeHeader']);

interface XmlRule {
  ID?: string;
  AllowedOrigin: string[];
  AllowedMethod: string[];
  AllowedHeader?: string[];
  ExposeHeader?: string[];
  MaxAgeSeconds?: string;
}

function parseXml(text: string): ParsedPolicy {
  const syntax = XMLValidator.validate(text);
  if (syntax !== true) {
    const { msg, line, col } = syntax.err;
    return fail('xml', [], `not well-formed XML at line ${line}, column ${col}: ${xmlSyntaxMessage(msg)}`);
  }
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    ignoreDeclaration: true,
    ignorePiTags: true,
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    isArray: (name) => XML_LISTS.has(name),
  });
  let parsed: Record<string, unknown>;
  try {
    parsed = parser.parse(text) as Record<string, unknown>;
  } catch (error) {
    // fast-xml-parser refuses some well-formed documents (external entities, elements named `constructor` or
    // `__proto__`); none is a CORS configuration.
    return fail('xml', [], `not a CORS configuration: ${(error as Error).message}`);
  }
  // `<CORSConfiguration/>` parses to an empty string: a configuration with no rules.
  if (parsed.CORSConfiguration === '') parsed.CORSConfiguration = {};
  const issues = checkSchema('policy-xml.schema.json', parsed);
  if (issues.length > 0) {
    return { ok: false, format: 'xml', problems: issues.map((i) => ({ ...i, kind: 'malformed' as const })) };
  }
  const xmlRules = (parsed.CORSConfiguration as { CORSRule?: XmlRule[] }).CORSRule ?? [];
  const policy: CorsPolicy = {
    rules: xmlRules.map((r) =>
      rule(
        r.ID,
        r.AllowedOrigin,
        r.AllowedMethod,
        r.AllowedHeader,
        r.ExposeHeader,
        r.MaxAgeSeconds === undefined ? undefined : Number(r.MaxAgeSeconds),
      ),
    ),
  };
  return checked(policy, 'xml');
}

/** fast-xml-parser reports unclosed elements as a JSON list of their names; say it in words. */
function xmlSyntaxMessage(message: string): string {
  const unclosed = /^Invalid '(\[[\s\S]*\])' found\.?$/.exec(message);
  if (!unclosed) return message;
  try {
    const names = JSON.parse(unclosed[1]) as string[];
    return `unclosed element(s) ${names.map((n) => `<${n}>`).join(', ')}`;
  } catch {
    return message;
  }
}

function toXml(policy: CorsPolicy): string {
  const document = {
    CORSConfiguration: {
      '@_xmlns': S3_XMLNS,
      CORSRule: policy.rules.map((r) =>
        dropUndefined({
          ID: r.id,
          AllowedOrigin: r.allowedOrigins,
          AllowedMethod: r.allowedMethods,
          AllowedHeader: r.allowedHeaders,
          ExposeHeader: r.exposeHeaders,
          MaxAgeSeconds: r.maxAgeSeconds === undefined ? undefined : String(r.maxAgeSeconds),
        }),
      ),
    },
  };
  const body = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, indentBy: '  ' })
    .build(document)
    .trimEnd();
  return `<?xml version="1.0" encoding="UTF-8"?>\n${body}\n`;
}

// --- writing --------------------------------------------------------------------------------------------------

/** A policy that a format cannot hold without losing something (rule ids in the dashboard format). */
export class LossyConversionError extends Error {}

export interface SerializeOptions {
  /** Drop rule ids instead of refusing, when writing the dashboard format. */
  dropIds?: boolean;
}

export function serializePolicy(policy: CorsPolicy, format: PolicyFormat, options: SerializeOptions = {}): string {
  switch (format) {
    case 'dashboard': {
      const named = policy.rules.findIndex((r) => r.id !== undefined);
      if (named >= 0 && !options.dropIds) {
        throw new LossyConversionError(
          `rule ${named + 1} has id '${policy.rules[named].id}', which the dashboard format cannot hold; ` +
            'write the rules or xml format instead, or drop the ids',
        );
      }
      return json(toDashboard(policy));
    }
    case 'rules':
      return json(toRules(policy));
    case 'xml':
      return toXml(policy);
  }
}

/** Indented JSON with lists of strings or numbers kept on one line, as R2's docs write policies. */
function json(value: unknown): string {
  const scalar = String.raw`(?:"(?:[^"\\]|\\.)*"|-?\d+)`;
  const flatList = new RegExp(String.raw`\[\s+(${scalar}(?:,\s+${scalar})*)\s+\]`, 'g');
  // JSON.stringify escapes newlines inside strings, so ",\n" only ever separates items.
  const text = JSON.stringify(value, null, 2).replace(
    flatList,
    (_, items: string) => `[${items.replace(/,\n\s+/g, ', ')}]`,
  );
  return `${text}\n`;
}

// --- shared ---------------------------------------------------------------------------------------------------

function rule(
  id: string | undefined,
  allowedOrigins: string[],
  allowedMethods: string[],
  allowedHeaders: string[] | undefined,
  exposeHeaders: string[] | undefined,
  maxAgeSeconds: number | undefined,
): CorsRule {
  return dropUndefined({ id, allowedOrigins, allowedMethods, allowedHeaders, exposeHeaders, maxAgeSeconds });
}

/** Absent fields stay absent (not `key: undefined`), so that deep equality and JSON output agree. */
function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
