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

export function predictBrowser(
  request: { origin: string; method: string; headers: Record<string, string>; credentials: Credentials },
  raw: RawExchange,
): Prediction {
  const decision = decidePreflight(request.method, request.headers);
  if (decision.needed) {
    if (!raw.preflight) return { outcome: 'blocked', detail: 'no preflight was exchanged to predict from' };
    const check = preflightCheck(
      raw.preflight.response.status,
      receivedHeaders(pairs(raw.preflight.response.headers)),
      {
        origin: request.origin,
        method: request.method,
        requestHeaders: decision.requestHeaders,
        credentials: request.credentials,
      },
    );
    if (!check.ok) return { outcome: 'blocked', reason: check.reason, detail: check.detail };
  }
  const headers = receivedHeaders(pairs(raw.actual.response.headers));
  const check = corsCheck(headers, request.origin, request.credentials);
  if (!check.ok) return { outcome: 'blocked', reason: check.reason, detail: check.detail };
  return {
    outcome: 'allowed',
    status: raw.actual.response.status,
    readable: readableHeaders(headers, request.credentials),
  };
}
