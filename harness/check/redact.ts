/**
 * What of an exchange may be shown in a report or a log: never a key, token, signature or presigned query.
 */
const SECRET_HEADERS = new Set(['authorization', 'x-amz-security-token', 'cookie', 'set-cookie']);

/**
 * Query parameters of a presigned URL that are kept when its query is redacted: they carry no secret and say
 * what was signed into the URL (the checksum a presigner put there is the usual reason an upload fails).
 */
const KEPT_PARAMS = /^(x-amz-checksum-[a-z0-9]+|x-amz-sdk-checksum-algorithm|partnumber|uploadid|uploads|x-id)$/i;

/**
 * A URL with any query that carries SigV4 parameters replaced by `?[presigned query redacted]`, followed by
 * the parameters that carry no secret (KEPT_PARAMS), as they were written.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url.slice(q + 1);
  if (!/(^|&)x-amz-(signature|credential|security-token)=/i.test(query)) return url;
  const kept = query.split('&').filter((pair) => {
    const name = pair.split('=')[0];
    try {
      return KEPT_PARAMS.test(decodeURIComponent(name));
    } catch {
      return false;
    }
  });
  return `${url.slice(0, q)}?[presigned query redacted]${kept.map((p) => `&${p}`).join('')}`;
}

export function redactHeader(name: string, value: string): string {
  return SECRET_HEADERS.has(name.toLowerCase()) ? '[redacted]' : value;
}

/** Error bodies can echo what was signed (AWS: StringToSign, CanonicalRequest, the access key). */
export function redactBody(body: string): string {
  return body
    .replace(
      /<(StringToSign|StringToSignBytes|CanonicalRequest|CanonicalRequestBytes|SignatureProvided|AWSAccessKeyId)>[^<]*<\/\1>/g,
      '<$1>[redacted]</$1>',
    )
    .replace(/(X-Amz-(?:Signature|Credential|Security-Token)=)[^&"<\s]+/gi, '$1[redacted]');
}
