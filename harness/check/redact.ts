/**
 * What of an exchange may be shown in a report or a log: never a key, token, signature or presigned query.
 */
const SECRET_HEADERS = new Set(['authorization', 'x-amz-security-token', 'cookie', 'set-cookie']);

/** A URL with any query that carries SigV4 parameters replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const query = url.slice(q + 1);
  return /(^|&)x-amz-(signature|credential|security-token)=/i.test(query)
    ? `${url.slice(0, q)}?[presigned query redacted]`
    : url;
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
