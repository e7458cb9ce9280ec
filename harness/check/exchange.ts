/** An exchange as text for the report: request and response lines and headers, redacted. */
import type { Leg } from '../clients/raw.ts';
import { redactBody, redactHeader, redactUrl } from './redact.ts';

const BODY_LIMIT = 2000;

function leg(title: string, l: Leg): string {
  const out = [`## ${title}`, `> ${l.request.method} ${redactUrl(l.request.url)}`];
  for (const [name, value] of Object.entries(l.request.headers)) out.push(`> ${name}: ${redactHeader(name, value)}`);
  if (l.request.body) out.push(`> (body: ${Buffer.byteLength(l.request.body)} bytes)`);
  out.push(`< ${l.response.status}`);
  for (const [name, value] of Object.entries(l.response.headers)) {
    for (const v of [value].flat()) if (v !== undefined) out.push(`< ${name}: ${redactHeader(name, v)}`);
  }
  if (l.response.body) {
    const body = redactBody(l.response.body);
    out.push(`<`, body.length > BODY_LIMIT ? `${body.slice(0, BODY_LIMIT)}… (${body.length} characters)` : body);
  }
  return out.join('\n');
}

export function exchangeText(legs: { title: string; leg?: Leg }[]): string {
  return legs
    .filter((l): l is { title: string; leg: Leg } => l.leg !== undefined)
    .map((l) => leg(l.title, l.leg))
    .join('\n\n');
}
