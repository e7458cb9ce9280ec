import { type Evaluation, evaluateActual, evaluatePreflight, type MissReason } from '../cors/evaluate.ts';
import { R2_PROFILE } from '../cors/profile.ts';
import type { Credentials } from '../fetch/cors-check.ts';
import { judge } from '../fetch/predict.ts';
import { decidePreflight } from '../fetch/preflight.ts';
import { readPolicyFile } from '../policy/file.ts';
import { originProblem, restRejection, s3Rejection } from '../policy/validate.ts';
import { formatProblem } from '../schema/problems.ts';
import { EXIT, parseOptions, UsageError } from './usage.ts';

/** `r2-cors explain`: its name, summary and help are in commands.ts. */
export function run(args: string[]): number {
  const { values } = parseOptions(
    'explain',
    args,
    {
      policy: { type: 'string' },
      origin: { type: 'string' },
      method: { type: 'string' },
      header: { type: 'string', multiple: true },
      credentials: { type: 'string' },
      json: { type: 'boolean' },
    },
    { positionals: false },
  );
  for (const required of ['policy', 'origin', 'method'] as const) {
    if (!values[required]) throw new UsageError(`explain: --${required} is required`);
  }
  const origin = values.origin as string;
  const method = values.method as string;
  const credentials = (values.credentials ?? 'same-origin') as Credentials;
  if (!['omit', 'same-origin', 'include'].includes(credentials)) {
    throw new UsageError('explain: --credentials must be omit, same-origin or include');
  }
  if (origin !== 'null' && originProblem(origin)) throw new UsageError(`explain: --origin: ${originProblem(origin)}`);
  if (!/^[A-Z]+$/.test(method)) throw new UsageError(`explain: --method must be an upper-case method such as PUT`);

  const policyFile = values.policy as string;
  const read = readPolicyFile(policyFile);
  if (!read.readable) throw new UsageError(`explain: cannot read ${policyFile}: ${read.error}`);
  if (!read.parsed.ok) {
    for (const problem of read.problems) console.error(formatProblem(problem));
    const s3 = s3Rejection(read.parsed.problems);
    console.error(
      `R2 refuses this policy (S3 API ${s3.status} ${s3.code}; REST API code ${restRejection(read.parsed.problems).code}), so it never applies`,
    );
    return EXIT.findings;
  }
  const policy = read.parsed.policy;

  // Headers the page sets: 'Name: value' is judged by the Fetch rules; a bare name goes into the preflight.
  const withValues: Record<string, string> = {};
  const bareNames: string[] = [];
  for (const header of values.header ?? []) {
    const colon = header.indexOf(':');
    if (colon < 0) bareNames.push(header.trim().toLowerCase());
    else withValues[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
  }
  const decision = decidePreflight(method, withValues);
  const requestHeaders = [...new Set([...decision.requestHeaders, ...bareNames])].sort();
  for (const name of bareNames) {
    if (!decision.requestHeaders.includes(name)) decision.reasons.push(`header ${name} is not CORS-safelisted`);
  }
  const needsPreflight = decision.reasons.length > 0;

  const preflight = evaluatePreflight(policy, {
    origin,
    requestMethod: method,
    requestHeaders: requestHeaders.join(','),
  });
  const actual = evaluateActual(policy, { origin, method });

  // What the browser does with those answers (Fetch standard), preflight first when one is sent.
  const verdict = judge(
    { origin, method, requestHeaders, preflighted: needsPreflight, credentials },
    {
      preflight: needsPreflight ? { status: preflight.status ?? 0, headers: preflight.headers } : undefined,
      actual: { headers: actual.headers },
    },
  );
  const blocked =
    verdict.outcome === 'blocked'
      ? {
          stage: verdict.stage === 'preflight' ? 'preflight' : `${method} response`,
          reason: verdict.reason,
          detail: verdict.detail,
        }
      : undefined;

  if (values.json) {
    console.log(
      JSON.stringify(
        {
          format: read.parsed.format,
          preflightSent: needsPreflight,
          preflightReasons: decision.reasons,
          preflight,
          actual,
          blocked: blocked ?? null,
        },
        null,
        2,
      ),
    );
    return blocked ? EXIT.findings : EXIT.ok;
  }

  const out: string[] = [];
  out.push(`Policy   ${policyFile} (${read.parsed.format} format, ${policy.rules.length} rule(s))`);
  const shownHeaders = [...Object.entries(withValues).map(([n, v]) => `${n}: ${v}`), ...bareNames];
  out.push(`Request  ${method} from ${origin}${shownHeaders.length ? `, with ${shownHeaders.join('; ')}` : ''}`);
  out.push('');
  if (needsPreflight) {
    out.push('The browser sends a preflight first, because:');
    for (const reason of decision.reasons) out.push(`  - ${reason}`);
  } else {
    out.push('The browser sends no preflight: the method and headers are CORS-safelisted.');
  }
  out.push('');
  out.push(...describeRules(needsPreflight ? preflight : actual));
  out.push('');
  if (needsPreflight) {
    out.push(
      `Preflight  OPTIONS (Access-Control-Request-Method: ${method}${requestHeaders.length ? `; Access-Control-Request-Headers: ${requestHeaders.join(',')}` : ''})`,
    );
    out.push(...describeAnswer(preflight));
    out.push('');
  }
  out.push(
    `Actual  ${method}${blocked?.stage === 'preflight' ? ' (not sent: the preflight failed; R2 would answer)' : ''}`,
  );
  out.push(...describeAnswer(actual));
  out.push('');
  if (blocked) {
    out.push(`Verdict  BLOCKED at the ${blocked.stage}: ${blocked.detail} (Chromium: ${blocked.reason})`);
  } else {
    const exposed = actual.headers.find(([n]) => n === 'Access-Control-Expose-Headers')?.[1];
    out.push('Verdict  ALLOWED: JavaScript sees the response.');
    out.push(
      exposed
        ? `         Besides the safelisted headers it can read: ${exposed}`
        : '         It can read only the safelisted headers (Cache-Control, Content-Language, Content-Length, Content-Type, Expires, Last-Modified, Pragma); ETag needs ExposeHeaders.',
    );
  }
  const assumptions = [...new Set([...(needsPreflight ? preflight.assumptions : []), ...actual.assumptions])];
  const reasons = assumptions.map((a) => R2_PROFILE.why[a]).filter((w): w is string => w !== undefined);
  if (reasons.length > 0) {
    out.push('');
    out.push('Assumed: R2 does not document these, so AWS S3 behaviour is used (harness/cors/profile.ts):');
    for (const why of reasons) out.push(`  - ${why}`);
  }
  console.log(out.join('\n'));
  return blocked ? EXIT.findings : EXIT.ok;
}

function list(values: string[]): string {
  return values.length === 0 ? '(none)' : values.join(', ');
}

function describeMiss(miss: MissReason): string {
  switch (miss.field) {
    case 'origin':
      return `origin ${miss.value} is not in AllowedOrigins: ${list(miss.allowed)}`;
    case 'method':
      return `method ${miss.value} is not in AllowedMethods: ${list(miss.allowed)}`;
    case 'header':
      return `header ${miss.value} is not in AllowedHeaders: ${list(miss.allowed)}`;
  }
}

function describeRules(evaluation: Evaluation): string[] {
  if (evaluation.outcome === 'no-policy') return ['The bucket has no CORS policy.'];
  const out: string[] = [];
  for (const result of evaluation.rules) {
    const name = `Rule ${result.index + 1}${result.rule.id ? ` (${result.rule.id})` : ''}`;
    if (result === evaluation.matched) out.push(`${name}: matches`);
    else if (result.misses.length === 0)
      out.push(`${name}: matches too, but rule ${(evaluation.matched?.index ?? 0) + 1} answers first`);
    else {
      out.push(`${name}: does not match`);
      for (const miss of result.misses) out.push(`  - ${describeMiss(miss)}`);
    }
  }
  if (!evaluation.matched) out.push('No rule matches.');
  return out;
}

function describeAnswer(evaluation: Evaluation): string[] {
  const out: string[] = [];
  if (evaluation.status !== undefined) {
    const rejection = evaluation.rejection ? ` ${evaluation.rejection.code}: ${evaluation.rejection.message}` : '';
    out.push(`  → ${evaluation.status}${rejection}`);
  }
  if (evaluation.headers.length === 0) out.push('  (no CORS headers)');
  for (const [name, value] of evaluation.headers) out.push(`  ${name}: ${value}`);
  return out;
}
