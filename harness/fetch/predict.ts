/**
 * What a standard-conforming browser does with the raw responses a target actually sent: blocked (and why) or
 * allowed (and which headers JavaScript can read). Used where a case states no browser outcome; a browser that
 * does otherwise deviates from the Fetch standard. It never predicts what R2 sends.
 */
import type { RawExchange } from '../clients/raw.ts';
import { type Credentials, corsCheck, preflightCheck, readableHeaders, receivedHeaders } from './cors-check.ts';
import { decidePreflight } from './preflight.ts';

export interface Prediction {
  outcome: 'allowed' | 'blocked';
  /** Where it was blocked. */
  stage?: 'preflight' | 'response';
  /** Chromium's name for the reason, when blocked. */
  reason?: string;
  detail?: string;
  status?: number;
  readable?: string[];
}

function pairs(headers: Record<string, string | string[] | undefined>): [string, string][] {
  return Object.entries(headers).flatMap(([name, value]) =>
    [value ?? []].flat().map((v): [string, string] => [name, v]),
  );
}

/** What the browser had to go on: the request as it puts it on the wire, and the answers it got. */
export interface BrowserView {
  origin: string;
  method: string;
  /** Names the preflight lists in Access-Control-Request-Headers. */
  requestHeaders: string[];
  /** Whether a preflight precedes the request. */
  preflighted: boolean;
  credentials: Credentials;
}

export interface Answers {
  preflight?: { status: number; headers: [string, string][] };
  actual: { status?: number; headers: [string, string][] };
}

/** The Fetch standard's verdict on a request, from the answers to its preflight (if any) and to itself. */
export function judge(view: BrowserView, answers: Answers): Prediction {
  if (view.preflighted) {
    if (!answers.preflight)
      return { outcome: 'blocked', stage: 'preflight', detail: 'no preflight answer to judge from' };
    const check = preflightCheck(answers.preflight.status, receivedHeaders(answers.preflight.headers), view);
    if (!check.ok) return { outcome: 'blocked', stage: 'preflight', reason: check.reason, detail: check.detail };
  }
  const headers = receivedHeaders(answers.actual.headers);
  const check = corsCheck(headers, view.origin, view.credentials);
  if (!check.ok) return { outcome: 'blocked', stage: 'response', reason: check.reason, detail: check.detail };
  return { outcome: 'allowed', status: answers.actual.status, readable: readableHeaders(headers, view.credentials) };
}

/** The verdict on a case's request from the raw responses the target actually sent. */
export function predictBrowser(
  request: { origin: string; method: string; headers: Record<string, string>; credentials: Credentials },
  raw: RawExchange,
): Prediction {
  const decision = decidePreflight(request.method, request.headers);
  return judge(
    { ...request, requestHeaders: decision.requestHeaders, preflighted: decision.needed },
    {
      preflight: raw.preflight && {
        status: raw.preflight.response.status,
        headers: pairs(raw.preflight.response.headers),
      },
      actual: { status: raw.actual.response.status, headers: pairs(raw.actual.response.headers) },
    },
  );
}
