/**
 * The Fetch standard's rule for when a browser sends a CORS preflight, and what that preflight carries.
 * Used to decide when the raw client preflights, to predict browser outcomes from raw responses, and by
 * `r2-cors explain`. It models browsers; it never predicts what R2 sends.
 *
 * https://fetch.spec.whatwg.org/#cors-safelisted-method
 * https://fetch.spec.whatwg.org/#cors-safelisted-request-header
 * https://fetch.spec.whatwg.org/#cors-unsafe-request-header-names
 */

const SAFELISTED_METHODS = new Set(['GET', 'HEAD', 'POST']);
const SAFELISTED_CONTENT_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);

/** Bytes that make a safelisted header's value unsafe: controls but tab, `"():<>?@[\]{}` and DEL. */
function hasUnsafeByte(value: string): boolean {
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if ((code < 0x20 && code !== 0x09) || code === 0x7f || '"():<>?@[\\]{}'.includes(char)) return true;
  }
  return false;
}

/** Whether one header (name, value) is CORS-safelisted. */
export function isSafelistedHeader(name: string, value: string): boolean {
  if (Buffer.byteLength(value) > 128) return false;
  switch (name.toLowerCase()) {
    case 'accept':
      return !hasUnsafeByte(value);
    case 'accept-language':
    case 'content-language':
      return /^[0-9A-Za-z *,\-.;=]*$/.test(value);
    case 'content-type': {
      if (hasUnsafeByte(value)) return false;
      const essence = value.split(';')[0].trim().toLowerCase();
      return SAFELISTED_CONTENT_TYPES.has(essence);
    }
    case 'range':
      return isSafelistedRange(value);
    default:
      return false;
  }
}

/**
 * Fetch safelists a Range only when it is one range with a first byte, `bytes=N-` or `bytes=N-M` with N ≤ M, no
 * whitespace ("parse a single range header value" with allowWhitespace false). A suffix (`bytes=-500`), several
 * ranges (`bytes=0-1,4-5`) or N > M make the request preflighted.
 * https://fetch.spec.whatwg.org/#simple-range-header-value
 */
export function isSafelistedRange(value: string): boolean {
  const m = /^bytes=([0-9]+)-([0-9]*)$/.exec(value);
  if (!m) return false;
  return m[2] === '' || BigInt(m[1]) <= BigInt(m[2]);
}

export interface PreflightDecision {
  /** Whether a browser sends a preflight (when its preflight cache has no entry). */
  needed: boolean;
  /** Why, one sentence per cause; empty when not needed. */
  reasons: string[];
  /** The headers the preflight would carry. */
  requestMethod: string;
  /** Lower-cased, sorted, de-duplicated unsafe header names (Access-Control-Request-Headers joins them with ","). */
  requestHeaders: string[];
}

export function decidePreflight(method: string, headers: Record<string, string> = {}): PreflightDecision {
  const reasons: string[] = [];
  if (!SAFELISTED_METHODS.has(method)) reasons.push(`method ${method} is not GET, HEAD or POST`);

  // Fetch also turns safelisted values over 1024 bytes in total unsafe; with one value of at most 128 bytes
  // for each of the five safelisted names that total cannot be reached, so it is not modelled.
  const unsafe = new Set<string>();
  for (const [name, value] of Object.entries(headers)) {
    if (!isSafelistedHeader(name, value)) unsafe.add(name.toLowerCase());
  }
  const requestHeaders = [...unsafe].sort();
  for (const name of requestHeaders) {
    const value = Object.entries(headers).find(([n]) => n.toLowerCase() === name)?.[1] ?? '';
    reasons.push(
      name === 'content-type'
        ? `Content-Type '${value}' is not form data or text/plain`
        : name === 'range'
          ? `Range '${value}' is not one range from a first byte (bytes=N- or bytes=N-M)`
          : `header ${name} is not CORS-safelisted`,
    );
  }
  return { needed: reasons.length > 0, reasons, requestMethod: method, requestHeaders };
}
