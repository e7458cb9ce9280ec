/**
 * Comparing what came back with what a case expects, field by field, each mismatch with its path in the case
 * file so that it can be pointed at: `--> cases/x.yaml:14:7  requests[1].expect.preflight.headers.vary`.
 */
import type { HeaderMatcher, HttpExpectation } from '../cases/model.ts';
import { type DocPath, formatPath } from '../policy/model.ts';
import type { Position } from '../schema/locate.ts';
import type { TargetResponse } from '../targets/target.ts';

export interface Mismatch {
  path: DocPath;
  expected: string;
  received: string;
  /** The expectation rests on undocumented R2 behaviour: why it is what it is. */
  assumed?: string;
}

/** Every value of a header, as received (repeated headers stay apart). */
export function headerValues(headers: TargetResponse['headers'], name: string): string[] | undefined {
  const value = headers[name.toLowerCase()];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value : [value];
}

export function showValues(values: string[] | undefined): string {
  if (values === undefined) return '(absent)';
  if (values.length === 1) return values[0];
  return `${values.map((v) => JSON.stringify(v)).join(' and ')} (${values.length} headers)`;
}

function describeMatcher(m: string | HeaderMatcher): string {
  if (typeof m === 'string') return m;
  if (m.absent) return '(absent)';
  if (m.pattern !== undefined) return `a value matching /${m.pattern}/`;
  return m.equals ?? '';
}

function matches(m: string | HeaderMatcher, values: string[] | undefined): boolean {
  if (typeof m !== 'string' && m.absent) return values === undefined;
  if (values === undefined || values.length !== 1) return false;
  if (typeof m === 'string') return values[0] === m;
  if (m.pattern !== undefined) return new RegExp(`^(?:${m.pattern})$`).test(values[0]);
  return values[0] === m.equals;
}

export function checkHttp(expectation: HttpExpectation, response: TargetResponse, at: DocPath): Mismatch[] {
  const mismatches: Mismatch[] = [];
  const blockAssumed = expectation.assumed;
  if (expectation.status !== undefined && expectation.status !== response.status) {
    mismatches.push({
      path: [...at, 'status'],
      expected: String(expectation.status),
      received: String(response.status),
      assumed: blockAssumed,
    });
  }
  for (const [name, matcher] of Object.entries(expectation.headers ?? {})) {
    const values = headerValues(response.headers, name);
    if (matches(matcher, values)) continue;
    const assumed = (typeof matcher === 'string' ? undefined : matcher.assumed) ?? blockAssumed;
    mismatches.push({
      path: [...at, 'headers', name],
      expected: describeMatcher(matcher),
      received: showValues(values),
      assumed,
    });
  }
  return mismatches;
}

/** The failure text: Hurl-style pointer into the case file, then expected and received. */
export function formatMismatch(file: string, position: Position, m: Mismatch): string {
  const lines = [
    `--> ${file}:${position.line}:${position.col}  ${formatPath(m.path)}`,
    `expected: ${m.expected}`,
    `received: ${m.received}`,
  ];
  if (m.assumed) lines.push(`assumed:  ${m.assumed} (R2 does not document this)`);
  return lines.join('\n');
}
