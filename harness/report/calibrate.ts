/**
 * Calibration: which of the profile's choices (harness/cors/profile.ts) a run's raw exchanges confirm or
 * contradict, and whether each `assumed:` expectation of the corpus held.
 *
 * The truth wall: nothing here runs the evaluator. Each profile field has a probe, written below as data and
 * small readers: which exchanges show the field (any exchange, or the named cases' whose policies make the
 * answer tell), and how a response header or status reads as a value of that field. The observed value is
 * then compared with the profile's stated choice.
 */
import { isDeepStrictEqual } from 'node:util';
import type { LoadedCase } from '../cases/model.ts';
import type { CorsProfile, Rejection } from '../cors/profile.ts';
import { formatPath } from '../policy/model.ts';
import type { ConformanceReport } from './conformance.ts';
import { assumedMarks, type Observation, type ObservedLeg } from './observation.ts';

export interface ObservationsFile {
  format: 'r2-cors-observations/1';
  runId: string;
  date: string;
  target: { kind: string; identity: string };
  observations: Observation[];
}

type Field = Exclude<keyof CorsProfile, 'name' | 'why'>;

interface Probe {
  field: Field;
  /** What shows the field, in a sentence. */
  shows: string;
  /** `case › request` whose exchanges show it; they are named when the field was not observed. */
  observers: string[];
  /** Any exchange may show the field (read decides which do); otherwise only the observers' exchanges. */
  anyExchange?: boolean;
  /** The field's value as this leg shows it; undefined when the leg says nothing about it. */
  read(leg: ObservedLeg, o: Observation): unknown;
  /** The part of the profile's value this exchange can show (default: all of it). */
  comparable?(expected: unknown, o: Observation): unknown;
}

const h = (leg: ObservedLeg, name: string) => leg.headers[name];
const list = (value: string | undefined) =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
/** A response that carries Access-Control-Allow-Origin: a rule matched. */
const matched = (leg: ObservedLeg) => h(leg, 'access-control-allow-origin') !== undefined;
const isPreflight = (leg: ObservedLeg) => leg.requestLine.startsWith('OPTIONS ');
const rejection = (leg: ObservedLeg) => ({
  status: leg.status,
  code: leg.error?.code ?? '(no error code)',
  message: leg.error?.message ?? '(no message)',
});

export const PROBES: Probe[] = [
  {
    field: 'wildcardAllowOrigin',
    shows: "Allow-Origin answered to a rule whose origin is '*'",
    observers: ['wildcard-any-origin › any-site', 'credentialed-wildcard-origin › with-credentials'],
    read: (leg) => {
      const value = h(leg, 'access-control-allow-origin');
      if (leg.leg !== 'actual' || value === undefined) return undefined;
      return value === '*' ? 'star' : value === leg.requestHeaders.origin ? 'echo' : `another value (${value})`;
    },
  },
  {
    field: 'allowCredentials',
    shows: 'Allow-Credentials on any response that echoes the origin',
    observers: ['credentialed-named-origin › with-credentials'],
    anyExchange: true,
    read: (leg) => {
      const origin = h(leg, 'access-control-allow-origin');
      if (origin === undefined || origin === '*') return undefined;
      return h(leg, 'access-control-allow-credentials') === 'true' ? 'when-echoed' : 'never';
    },
  },
  {
    field: 'allowMethods',
    shows: 'Allow-Methods of a preflight for one of several methods the rule allows',
    observers: ['allow-methods-of-rule › put'],
    read: (leg) => {
      if (!isPreflight(leg) || !matched(leg)) return undefined;
      const methods = list(h(leg, 'access-control-allow-methods'));
      const asked = leg.requestHeaders['access-control-request-method'];
      if (methods.length > 1) return 'rule';
      return methods.length === 1 && methods[0] === asked ? 'requested' : `another value (${methods.join(', ')})`;
    },
  },
  {
    field: 'allowHeaders',
    shows: "Allow-Headers of a preflight whose requested names differ from the rule's list",
    observers: ['header-name-case-insensitive › lower-case-request', 'allowed-headers-wildcard › custom-headers'],
    read: (leg) => {
      const asked = leg.requestHeaders['access-control-request-headers'];
      if (!isPreflight(leg) || !matched(leg) || asked === undefined) return undefined;
      const echoed = isDeepStrictEqual(
        list(h(leg, 'access-control-allow-headers')),
        list(asked).map((n) => n.toLowerCase()),
      );
      return echoed ? 'echo-requested' : 'rule';
    },
  },
  {
    field: 'listSeparator',
    shows: 'the text between two values of Allow-Methods, Allow-Headers or Expose-Headers',
    observers: ['expose-headers-list › get'],
    anyExchange: true,
    read: (leg) => {
      for (const name of [
        'access-control-allow-methods',
        'access-control-allow-headers',
        'access-control-expose-headers',
      ]) {
        const separator = /,\s*/.exec(h(leg, name) ?? '');
        if (separator) return separator[0];
      }
      return undefined;
    },
  },
  {
    field: 'exposeOnPreflight',
    shows: 'Expose-Headers on the preflight of a rule with ExposeHeaders',
    observers: ['put-content-type-etag-exposed › upload-json'],
    read: (leg) =>
      isPreflight(leg) && matched(leg) ? h(leg, 'access-control-expose-headers') !== undefined : undefined,
  },
  {
    field: 'maxAgeOnActual',
    shows: 'Max-Age on the actual response of a rule with MaxAgeSeconds',
    observers: ['put-content-type-etag-exposed › upload-json'],
    read: (leg) => (leg.leg === 'actual' && matched(leg) ? h(leg, 'access-control-max-age') !== undefined : undefined),
  },
  {
    field: 'varyOnMatch',
    shows: 'Vary on any response that matched a rule',
    observers: ['expose-headers-list › get'],
    anyExchange: true,
    read: (leg) => (matched(leg) ? (h(leg, 'vary') ?? null) : undefined),
  },
  {
    field: 'ruleChoice',
    shows: 'which of two matching rules answers (the first exposes ETag, the second Content-Length)',
    observers: ['first-matching-rule-answers › get'],
    read: (leg) => {
      if (leg.leg !== 'actual' || !matched(leg)) return undefined;
      const exposed = h(leg, 'access-control-expose-headers');
      return exposed === 'ETag' ? 'first-match' : `another rule (Expose-Headers: ${exposed ?? '(absent)'})`;
    },
  },
  {
    field: 'matchedPreflightStatus',
    shows: 'the status of any preflight that matched a rule',
    observers: ['max-age-header › preflight'],
    anyExchange: true,
    read: (leg) => (isPreflight(leg) && matched(leg) && leg.requestHeaders.origin ? leg.status : undefined),
  },
  {
    field: 'unmatchedPreflight',
    shows: 'status and error of a preflight no rule matches',
    observers: [
      'method-not-allowed › delete',
      'put-header-not-allowed › upload-json',
      'wrangler-policy-get › presigned-put-refused',
    ],
    read: (leg) => (leg.leg === 'preflight' ? rejection(leg) : undefined),
  },
  {
    field: 'noPolicyPreflight',
    shows: 'status and error of a preflight on a bucket without policy',
    observers: ['no-policy-no-cors-headers › presigned-put'],
    read: (leg) => (leg.leg === 'preflight' ? rejection(leg) : undefined),
  },
  {
    field: 'preflightWithoutOrigin',
    shows: 'status and error of any OPTIONS without Origin',
    observers: ['options-without-origin › bare-options'],
    anyExchange: true,
    read: (leg, o) => {
      if (!isPreflight(leg) || leg.requestHeaders.origin !== undefined) return undefined;
      // The public endpoints' 400 is documented (2024-02-20) with a page of their own: only its status is the profile's.
      return o.surface === 's3' ? rejection(leg) : { status: leg.status };
    },
    comparable: (expected, o) => (o.surface === 's3' ? expected : { status: (expected as Rejection).status }),
  },
  {
    field: 'preflightWithoutMethod',
    shows: 'status and error of any OPTIONS with Origin but no Access-Control-Request-Method',
    observers: ['preflight-without-request-method › origin-only'],
    anyExchange: true,
    read: (leg) =>
      isPreflight(leg) &&
      leg.requestHeaders.origin !== undefined &&
      leg.requestHeaders['access-control-request-method'] === undefined
        ? rejection(leg)
        : undefined,
  },
  {
    field: 'corsOnErrors',
    shows: 'CORS headers on an error response to a request whose origin a rule allows, per surface',
    observers: ['missing-object-keeps-cors › missing'],
    read: (leg) => (leg.leg === 'actual' && leg.status >= 400 ? matched(leg) : undefined),
    // The profile says it per surface: the S3 API, and the public entrypoints (r2.dev and custom domains).
    comparable: (expected, o) => (expected as { s3: boolean; public: boolean })[o.surface === 's3' ? 's3' : 'public'],
  },
  {
    field: 'corsOnNotModified',
    shows: 'CORS headers on a 304 Not Modified',
    observers: ['get-if-none-match-304 › revalidate'],
    read: (leg) => (leg.leg === 'actual' && leg.status === 304 ? matched(leg) : undefined),
  },
  {
    field: 'headerPatterns',
    shows: "whether a preflight for x-amz-user-agent matches AllowedHeaders ['x-amz-*']",
    observers: ['allowed-headers-amz-pattern › sdk-header'],
    read: (leg) => (isPreflight(leg) ? (matched(leg) ? 'wildcard-anywhere' : 'bare-star-only') : undefined),
  },
  {
    field: 'presignedPreflight',
    shows: 'whether the preflight of an expired presigned URL is refused',
    observers: ['preflight-expired-url › upload'],
    read: (leg) =>
      leg.leg === 'preflight' ? (leg.status >= 400 ? 'verify-with-requested-method' : 'not-checked') : undefined,
  },
  {
    field: 'corsOnPresignedPreflightRefusal',
    shows: 'CORS headers on the refused preflight of an expired presigned URL',
    observers: ['preflight-expired-url › upload'],
    read: (leg) => (leg.leg === 'preflight' && leg.status >= 400 ? matched(leg) : undefined),
  },
  {
    field: 'checksumMismatch',
    shows: 'status and error code of a PUT whose body does not match its checksum',
    observers: ['put-signed-checksum-mismatch › upload-other-file'],
    read: (leg) =>
      leg.leg === 'actual' && leg.status >= 400 ? { status: leg.status, code: leg.error?.code } : undefined,
  },
  {
    field: 'unsatisfiableRange',
    shows: 'status and error of any 416 Range Not Satisfiable',
    observers: ['range-not-satisfiable › past-the-end'],
    anyExchange: true,
    read: (leg) => (leg.leg === 'actual' && leg.status === 416 ? rejection(leg) : undefined),
  },
  {
    field: 'partChecksumsNotImplemented',
    shows: 'whether an UploadPart carrying a right SHA-256 or SHA-1 checksum is refused with 501 NotImplemented',
    observers: [
      'upload-part-checksum-not-implemented › part-sha256',
      'upload-part-checksum-not-implemented › part-sha1',
    ],
    // Each observer's part carries one algorithm (its id says which), with a value that matches the body: only
    // the algorithm can be refused. The exchange shows whether that one is in the profile's list.
    read: (leg, o) => {
      if (leg.leg !== 'actual') return undefined;
      const refused = leg.status === 501 && leg.error?.code === 'NotImplemented';
      return { algorithm: partChecksumAlgorithm(o), notImplemented: refused };
    },
    comparable: (expected, o) => {
      const algorithm = partChecksumAlgorithm(o);
      return { algorithm, notImplemented: (expected as string[]).includes(algorithm) };
    },
  },
];

/** The checksum algorithm of an observer of partChecksumsNotImplemented: `part-sha256` → `sha256`. */
function partChecksumAlgorithm(o: Observation): string {
  return o.request.replace(/^part-/, '');
}

export interface Evidence {
  exchange: string;
  leg: ObservedLeg['leg'];
  requestLine: string;
  status: number;
  headers: Record<string, string>;
  error?: ObservedLeg['error'];
}

export interface FieldVerdict {
  field: Field;
  expected: unknown;
  verdict: 'confirmed' | 'contradicted' | 'not observed';
  /** How many exchanges showed the field. */
  seen: number;
  /** Contradicted: the first value seen that differs, and the exchange that shows it. */
  value?: unknown;
  evidence?: Evidence;
  /** Not observed: the cases that would observe it, or that none does. */
  observers?: string[];
  shows: string;
}

export interface AssumedVerdict {
  case: string;
  file: string;
  path: string;
  why: string;
  /** held / did not hold on this target; not checked: no check of this run covered it. */
  verdict: 'held' | 'did not hold' | 'not checked';
  /** Which check decided it (`case › request › client`). */
  by?: string;
}

export interface Calibration {
  profile: string;
  runId: string;
  target: string;
  exchanges: number;
  fields: FieldVerdict[];
  assumed: AssumedVerdict[];
}

const normal = (v: unknown) => (v === undefined ? null : v);

export function calibrate(
  profile: CorsProfile,
  file: ObservationsFile,
  corpus: LoadedCase[],
  report?: ConformanceReport,
): Calibration {
  const caseIds = new Set(corpus.map((c) => c.id));
  const fields = PROBES.map((probe): FieldVerdict => {
    const expected = normal(profile[probe.field]);
    const mine = file.observations.filter(
      (o) => probe.anyExchange || probe.observers.includes(`${o.case} › ${o.request}`),
    );
    let seen = 0;
    for (const o of mine) {
      for (const leg of o.legs) {
        const value = probe.read(leg, o);
        if (value === undefined) continue;
        seen++;
        const comparable = probe.comparable ? probe.comparable(expected, o) : expected;
        if (!isDeepStrictEqual(value, comparable)) {
          return {
            field: probe.field,
            expected: comparable,
            verdict: 'contradicted',
            seen,
            value,
            evidence: { exchange: `${o.case} › ${o.request}`, ...legEvidence(leg) },
            shows: probe.shows,
          };
        }
      }
    }
    if (seen > 0) return { field: probe.field, expected, verdict: 'confirmed', seen, shows: probe.shows };
    const observers = probe.observers.filter((x) => caseIds.has(x.split(' › ')[0]));
    return { field: probe.field, expected, verdict: 'not observed', seen, observers, shows: probe.shows };
  });
  return {
    profile: profile.name,
    runId: file.runId,
    target: file.target.identity,
    exchanges: file.observations.length,
    fields,
    assumed: assumedVerdicts(file, corpus, report),
  };
}

function legEvidence(leg: ObservedLeg): Omit<Evidence, 'exchange'> {
  return {
    leg: leg.leg,
    requestLine: leg.requestLine,
    status: leg.status,
    headers: leg.headers,
    ...(leg.error ? { error: leg.error } : {}),
  };
}

/** Raw marks are decided by the observations; browser marks by the browser checks of conformance.json. */
function assumedVerdicts(file: ObservationsFile, corpus: LoadedCase[], report?: ConformanceReport): AssumedVerdict[] {
  const out: AssumedVerdict[] = [];
  for (const c of corpus) {
    for (const mark of assumedMarks(c)) {
      const path = formatPath(mark.path);
      const base = { case: c.id, file: c.file, path, why: mark.why };
      const raw = file.observations
        .filter((o) => o.case === c.id)
        .flatMap((o) => o.assumed.filter((a) => a.path === path).map((a) => ({ o, a })));
      if (raw.length > 0) {
        const failed = raw.find((r) => !r.a.held);
        const by = failed ?? raw[0];
        out.push({
          ...base,
          verdict: failed ? 'did not hold' : 'held',
          by: `${by.o.case} › ${by.o.request} › raw`,
        });
        continue;
      }
      const step = c.steps.find((s) => s.kind === 'request' && formatPath(mark.path).startsWith(formatPath(s.path)));
      const checks =
        report && step?.kind === 'request'
          ? Object.entries(report.checks).filter(
              ([, x]) => x.case === c.id && x.request === step.request.id && x.client !== 'raw',
            )
          : [];
      const decided = checks.filter(([, x]) => x.status === 'assumed' || x.status === 'failed');
      const failed = decided.find(([, x]) => x.failure?.pointers.some((p) => p.path.startsWith(path)));
      if (failed) out.push({ ...base, verdict: 'did not hold', by: failed[0] });
      else if (decided.some(([, x]) => x.status === 'assumed'))
        out.push({ ...base, verdict: 'held', by: decided.find(([, x]) => x.status === 'assumed')?.[0] });
      else out.push({ ...base, verdict: 'not checked' });
    }
  }
  return out;
}

const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v));

/** The calibration as a table for people. */
export function calibrationText(cal: Calibration): string {
  const out = [
    `Profile ${cal.profile} against ${cal.exchanges} observed checks of run ${cal.runId} (${cal.target})`,
    '',
  ];
  const width = Math.max(...cal.fields.map((f) => f.field.length)) + 2;
  for (const f of cal.fields) {
    const head = `${f.field.padEnd(width)}${f.verdict.padEnd(14)}`;
    if (f.verdict === 'confirmed')
      out.push(`${head}${show(f.expected)} (${f.seen} exchange${f.seen === 1 ? '' : 's'})`);
    else if (f.verdict === 'contradicted' && f.evidence) {
      const e = f.evidence;
      out.push(`${head}profile: ${show(f.expected)}; seen: ${show(f.value)}`);
      out.push(`${' '.repeat(width + 14)}in ${e.exchange} (${e.leg}): ${e.requestLine} → ${e.status}`);
      for (const [name, value] of Object.entries(e.headers)) out.push(`${' '.repeat(width + 16)}${name}: ${value}`);
      if (e.error)
        out.push(`${' '.repeat(width + 16)}error: ${e.error.code}${e.error.message ? ` (${e.error.message})` : ''}`);
    } else {
      const who = f.observers?.length
        ? `run ${f.observers.join(' or ')}: it shows ${f.shows}`
        : `no case observes this: add one that shows ${f.shows}`;
      out.push(`${head}${who}`);
    }
  }
  const tally = (v: AssumedVerdict['verdict']) => cal.assumed.filter((a) => a.verdict === v).length;
  out.push(
    '',
    `Assumed expectations: ${tally('held')} held, ${tally('did not hold')} did not hold, ${tally('not checked')} not checked in this run`,
  );
  for (const a of cal.assumed) {
    out.push(`  ${a.verdict.padEnd(13)} ${a.file}  ${a.path}${a.by ? `  [${a.by}]` : ''}`);
    out.push(`  ${' '.repeat(13)} ${a.why}`);
  }
  return out.join('\n');
}

export function hasFindings(cal: Calibration): boolean {
  return cal.fields.some((f) => f.verdict === 'contradicted') || cal.assumed.some((a) => a.verdict === 'did not hold');
}
