/**
 * What R2 answers to a request, given a bucket's CORS policy: which rule matches, why each other rule does not,
 * and the CORS headers of the preflight and of the actual response.
 *
 * Matching follows shared/reference/r2-cors.md §2 and, where R2 is silent, AWS S3 (s3-cors.md); everything that
 * is a choice rather than a documented rule comes from the profile (profile.ts), never from a literal here.
 */
import type { CorsPolicy, CorsRule } from '../policy/model.ts';
import { type CorsProfile, R2_PROFILE, type Rejection } from './profile.ts';

export type MissReason =
  | { field: 'origin'; value: string; allowed: string[] }
  | { field: 'method'; value: string; allowed: string[] }
  | { field: 'header'; value: string; allowed: string[] };

export interface RuleResult {
  index: number;
  rule: CorsRule;
  /** Empty when the rule matches. */
  misses: MissReason[];
}

export type Outcome =
  /** No Origin header: not a CORS request, no CORS headers [doc]. */
  | 'not-cors'
  /** The bucket has no CORS policy [doc]. */
  | 'no-policy'
  | 'matched'
  | 'unmatched'
  /** A preflight without Access-Control-Request-Method. */
  | 'bad-preflight';

export interface Evaluation {
  outcome: Outcome;
  /** The rule that answers (the first that matches). */
  matched?: RuleResult;
  /** Every rule, in order, with why it does or does not match (empty for not-cors / no-policy). */
  rules: RuleResult[];
  /** CORS response headers, in the order sent; empty when none. */
  headers: [string, string][];
  /** Preflights only: the status, and the error when refused. */
  status?: number;
  rejection?: Rejection;
  /** Profile choices this answer depends on (see CorsProfile.why). */
  assumptions: (keyof CorsProfile)[];
}

export interface PreflightRequest {
  origin?: string;
  /** The Access-Control-Request-Method header as sent. */
  requestMethod?: string;
  /** The Access-Control-Request-Headers header as sent (comma-separated). */
  requestHeaders?: string;
}

export interface ActualRequest {
  origin?: string;
  method: string;
}

/** `*` matches any run of characters, the empty one included; everything else is literal (s3-cors.md). */
export function wildcardMatch(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*');
  if (star < 0) return pattern === value;
  const prefix = pattern.slice(0, star);
  const suffix = pattern.slice(star + 1);
  return value.length >= prefix.length + suffix.length && value.startsWith(prefix) && value.endsWith(suffix);
}

/** Access-Control-Request-Headers → lower-cased names in request order, empties dropped. */
export function parseRequestHeaders(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
}

/** An AllowedHeaders entry with a `*` that is not the bare `*` (`x-amz-*`): a pattern only on some servers. */
export const isHeaderPattern = (entry: string) => entry !== '*' && entry.includes('*');

/** Whether a requested header name is allowed by an AllowedHeaders entry (both lower-cased). */
function headerAllowed(entry: string, name: string, profile: CorsProfile): boolean {
  if (entry === '*') return true;
  // AWS matches a `*` anywhere in the entry; R2 documents only the bare `*` (profile: headerPatterns).
  if (profile.headerPatterns === 'bare-star-only') return entry === name;
  return wildcardMatch(entry, name);
}

function judgeRule(
  rule: CorsRule,
  index: number,
  origin: string,
  method: string,
  headers: string[],
  profile: CorsProfile,
): RuleResult {
  const misses: MissReason[] = [];
  // Origins compare exactly, case included [doc: "Origin values must match exactly"].
  if (!rule.allowedOrigins.some((pattern) => wildcardMatch(pattern, origin))) {
    misses.push({ field: 'origin', value: origin, allowed: rule.allowedOrigins });
  }
  // Methods compare case-sensitively, as AWS does; R2 accepts only upper-case methods in a policy.
  if (!rule.allowedMethods.includes(method)) {
    misses.push({ field: 'method', value: method, allowed: rule.allowedMethods });
  }
  // Header names compare case-insensitively [doc: fixed 2022-11-17].
  const allowed = (rule.allowedHeaders ?? []).map((h) => h.toLowerCase());
  for (const header of headers) {
    if (!allowed.some((entry) => headerAllowed(entry, header, profile))) {
      misses.push({ field: 'header', value: header, allowed: rule.allowedHeaders ?? [] });
    }
  }
  return { index, rule, misses };
}

function judgeAll(policy: CorsPolicy, origin: string, method: string, headers: string[], profile: CorsProfile) {
  const rules = policy.rules.map((rule, i) => judgeRule(rule, i, origin, method, headers, profile));
  return { rules, matched: rules.find((r) => r.misses.length === 0) };
}

function join(values: string[], profile: CorsProfile): string {
  return values.join(profile.listSeparator);
}

/** The headers shared by preflight and actual responses of a matched rule: origin, credentials, methods. */
function matchedHeaders(
  rule: CorsRule,
  origin: string,
  method: string,
  profile: CorsProfile,
  assumptions: Set<keyof CorsProfile>,
) {
  const headers: [string, string][] = [];
  const entry = rule.allowedOrigins.find((pattern) => wildcardMatch(pattern, origin));
  const star = entry === '*' && profile.wildcardAllowOrigin === 'star';
  if (entry === '*') assumptions.add('wildcardAllowOrigin');
  headers.push(['Access-Control-Allow-Origin', star ? '*' : origin]);
  if (!star && profile.allowCredentials === 'when-echoed') headers.push(['Access-Control-Allow-Credentials', 'true']);
  assumptions.add('allowCredentials');
  assumptions.add('allowMethods');
  headers.push([
    'Access-Control-Allow-Methods',
    profile.allowMethods === 'rule' ? join(rule.allowedMethods, profile) : method,
  ]);
  return headers;
}

export function evaluatePreflight(
  policy: CorsPolicy | null,
  request: PreflightRequest,
  profile: CorsProfile = R2_PROFILE,
): Evaluation {
  const { origin, requestMethod } = request;
  if (origin === undefined) {
    return refuse('not-cors', [], profile.preflightWithoutOrigin, ['preflightWithoutOrigin']);
  }
  if (requestMethod === undefined || requestMethod === '') {
    return refuse('bad-preflight', [], profile.preflightWithoutMethod, ['preflightWithoutMethod']);
  }
  if (policy === null) return refuse('no-policy', [], profile.noPolicyPreflight, ['noPolicyPreflight']);

  const requested = parseRequestHeaders(request.requestHeaders);
  const { rules, matched } = judgeAll(policy, origin, requestMethod, requested, profile);
  // Requested headers judged against an `x-amz-*`-style entry: the answer rests on how R2 reads such entries.
  const patterned =
    requested.length > 0 && policy.rules.some((rule) => (rule.allowedHeaders ?? []).some(isHeaderPattern));
  const patternAssumption: (keyof CorsProfile)[] = patterned ? ['headerPatterns'] : [];
  if (!matched) {
    return refuse('unmatched', rules, profile.unmatchedPreflight, [
      'unmatchedPreflight',
      'ruleChoice',
      ...patternAssumption,
    ]);
  }

  const assumptions = new Set<keyof CorsProfile>(['ruleChoice', 'matchedPreflightStatus', ...patternAssumption]);
  const rule = matched.rule;
  const headers = matchedHeaders(rule, origin, requestMethod, profile, assumptions);
  if (requested.length > 0) {
    assumptions.add('allowHeaders');
    const value = profile.allowHeaders === 'echo-requested' ? requested : (rule.allowedHeaders ?? []);
    headers.push(['Access-Control-Allow-Headers', join(value, profile)]);
  }
  if (profile.exposeOnPreflight) pushExposeHeaders(headers, rule, profile, assumptions, 'exposeOnPreflight');
  if (rule.maxAgeSeconds !== undefined) headers.push(['Access-Control-Max-Age', String(rule.maxAgeSeconds)]);
  pushVary(headers, profile, assumptions);
  return {
    outcome: 'matched',
    matched,
    rules,
    headers,
    status: profile.matchedPreflightStatus,
    assumptions: [...assumptions],
  };
}

export function evaluateActual(
  policy: CorsPolicy | null,
  request: ActualRequest,
  profile: CorsProfile = R2_PROFILE,
): Evaluation {
  const { origin, method } = request;
  if (origin === undefined) return answer('not-cors');
  if (policy === null) return answer('no-policy');
  // An actual request is matched on origin and method; its headers were settled by the preflight.
  const { rules, matched } = judgeAll(policy, origin, method, [], profile);
  // Unmatched: the normal response without CORS headers (a 2022 fix removed a spurious 403) [doc].
  if (!matched) return { ...answer('unmatched'), rules, assumptions: ['ruleChoice'] };

  const assumptions = new Set<keyof CorsProfile>(['ruleChoice']);
  const rule = matched.rule;
  const headers = matchedHeaders(rule, origin, method, profile, assumptions);
  pushExposeHeaders(headers, rule, profile, assumptions);
  if (rule.maxAgeSeconds !== undefined && profile.maxAgeOnActual) {
    assumptions.add('maxAgeOnActual');
    headers.push(['Access-Control-Max-Age', String(rule.maxAgeSeconds)]);
  }
  pushVary(headers, profile, assumptions);
  return { outcome: 'matched', matched, rules, headers, assumptions: [...assumptions] };
}

// Expose-Headers is omitted when the rule has none (changelog 2022-09-28) [doc].
function pushExposeHeaders(
  headers: [string, string][],
  rule: CorsRule,
  profile: CorsProfile,
  assumptions: Set<keyof CorsProfile>,
  because?: keyof CorsProfile,
) {
  if (!rule.exposeHeaders || rule.exposeHeaders.length === 0) return;
  if (because) assumptions.add(because);
  assumptions.add('listSeparator');
  headers.push(['Access-Control-Expose-Headers', join(rule.exposeHeaders, profile)]);
}

function pushVary(headers: [string, string][], profile: CorsProfile, assumptions: Set<keyof CorsProfile>) {
  assumptions.add('varyOnMatch');
  if (profile.varyOnMatch !== undefined) headers.push(['Vary', profile.varyOnMatch]);
}

function answer(outcome: Outcome): Evaluation {
  return { outcome, rules: [], headers: [], assumptions: [] };
}

function refuse(
  outcome: Outcome,
  rules: RuleResult[],
  rejection: Rejection,
  assumptions: (keyof CorsProfile)[],
): Evaluation {
  return { outcome, rules, headers: [], status: rejection.status, rejection, assumptions };
}
