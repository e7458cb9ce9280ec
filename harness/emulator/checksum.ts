/**
 * Body checksums on PutObject and UploadPart: `x-amz-checksum-<algorithm>` (a header, or a query parameter of a
 * presigned URL), with `x-amz-sdk-checksum-algorithm`, and `Content-MD5`. A value that does not match the body
 * refuses the request and stores nothing.
 *
 * Why it matters (shared/reference/r2-cors.md §5): AWS SDK v3's default presigner signs
 * `x-amz-checksum-crc32=AAAAAA==`, the CRC32 of an empty body, into every PutObject URL; the browser then uploads
 * the real file and R2 refuses it [seen]. An emulator that accepted it would tell users their upload works.
 *
 * The CRCs come from AWS's own packages (@aws-crypto/crc32, @aws-crypto/crc32c, @aws-sdk/crc64-nvme), the SHAs
 * and MD5 from node:crypto.
 */
import { createHash } from 'node:crypto';
import { AwsCrc32 } from '@aws-crypto/crc32';
import { AwsCrc32c } from '@aws-crypto/crc32c';
import { Crc64Nvme } from '@aws-sdk/crc64-nvme';
import type { CorsProfile } from '../cors/profile.ts';
import { type Reply, s3Error } from './http.ts';

export const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** Digest length in bytes: a claimed value of another length is malformed, not a mismatch. */
const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = { crc32: 4, crc32c: 4, crc64nvme: 8, sha1: 20, sha256: 32 };

/** Names as S3's error messages spell them. */
const DISPLAY: Record<ChecksumAlgorithm, string> = {
  crc32: 'CRC32',
  crc32c: 'CRC32C',
  crc64nvme: 'CRC64NVME',
  sha1: 'SHA1',
  sha256: 'SHA256',
};

/** The base64 digest of a body, as S3 writes it in `x-amz-checksum-*`. */
export async function checksumOf(algorithm: ChecksumAlgorithm, body: Uint8Array): Promise<string> {
  if (algorithm === 'sha1' || algorithm === 'sha256') return createHash(algorithm).update(body).digest('base64');
  const hash = algorithm === 'crc32' ? new AwsCrc32() : algorithm === 'crc32c' ? new AwsCrc32c() : new Crc64Nvme();
  hash.update(body);
  return Buffer.from(await hash.digest()).toString('base64');
}

export interface ChecksumContext {
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** The request's query parameters (a presigned URL carries its signed x-amz-* headers there). */
  query: Map<string, string>;
  body: Buffer;
  /** UploadPart rather than PutObject. */
  part: boolean;
}

/** What a request claims about its body, from headers and query alike (query names are case-insensitive). */
function claims(ctx: ChecksumContext): Map<string, string> {
  const found = new Map<string, string>();
  for (const [name, value] of ctx.query) found.set(name.toLowerCase(), value);
  for (const [name, value] of Object.entries(ctx.headers)) found.set(name, value);
  return found;
}

const invalid = (message: string) => s3Error(400, 'InvalidRequest', message);

/**
 * Undefined when the body matches every checksum the request states (or it states none); else the refusal.
 * The checksum stored with the object (returned on `x-amz-checksum-mode: ENABLED`) comes back in `stored`.
 */
export async function verifyChecksums(
  ctx: ChecksumContext,
  profile: CorsProfile,
): Promise<{ refusal?: Reply; stored?: { algorithm: ChecksumAlgorithm; value: string } }> {
  const found = claims(ctx);
  const values = CHECKSUM_ALGORITHMS.filter((a) => found.has(`x-amz-checksum-${a}`));
  const sdkAlgorithm = found.get('x-amz-sdk-checksum-algorithm')?.toLowerCase();

  if (sdkAlgorithm !== undefined && !(CHECKSUM_ALGORITHMS as readonly string[]).includes(sdkAlgorithm)) {
    return { refusal: invalid('Value for x-amz-sdk-checksum-algorithm header is invalid.') };
  }
  if (values.length > 1) {
    return { refusal: invalid('Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.') };
  }
  const algorithm = values[0];
  if (sdkAlgorithm !== undefined && algorithm === undefined && found.get('x-amz-trailer') === undefined) {
    return {
      refusal: invalid(
        'x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.',
      ),
    };
  }
  if (sdkAlgorithm !== undefined && algorithm !== undefined && sdkAlgorithm !== algorithm) {
    return { refusal: invalid('Value for x-amz-sdk-checksum-algorithm header is invalid.') };
  }

  const md5 = found.get('content-md5');
  if (md5 !== undefined) {
    if (Buffer.from(md5, 'base64').length !== 16) {
      return { refusal: s3Error(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.') };
    }
    if (createHash('md5').update(ctx.body).digest('base64') !== md5) {
      const { status, code } = profile.checksumMismatch;
      return { refusal: s3Error(status, code, 'The Content-MD5 you specified did not match what we received.') };
    }
  }
  if (algorithm === undefined) return {};

  const claimed = found.get(`x-amz-checksum-${algorithm}`) ?? '';
  // [seen] R2 answers 501 to an UploadPart carrying a SHA-1 or SHA-256 checksum, whatever its value; the message
  // is the one R2 gave for the checksum headers it once refused (f2face/cloudflare-r2#12).
  if (ctx.part && profile.partChecksumsNotImplemented.includes(algorithm)) {
    const message = `Header 'x-amz-checksum-${algorithm}' with value '${claimed}' not implemented`;
    return { refusal: s3Error(501, 'NotImplemented', message) };
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(claimed) || Buffer.from(claimed, 'base64').length !== DIGEST_BYTES[algorithm]) {
    return { refusal: invalid(`Value for x-amz-checksum-${algorithm} header is invalid.`) };
  }
  const actual = await checksumOf(algorithm, ctx.body);
  if (actual !== claimed) {
    const { status, code } = profile.checksumMismatch;
    return {
      refusal: s3Error(status, code, `The ${DISPLAY[algorithm]} you specified did not match the calculated checksum.`),
    };
  }
  return { stored: { algorithm, value: actual } };
}

/**
 * The checks a PUT to an object (PutObject, UploadPart) gets before it is carried out; other requests pass.
 * Copies (x-amz-copy-source) carry no body to check.
 */
export async function checkUploadBody(
  r: { method: string; key?: string; headers: Record<string, string>; query: Map<string, string>; body: Buffer },
  profile: CorsProfile,
): Promise<{ refusal?: Reply; stored?: { algorithm: ChecksumAlgorithm; value: string } }> {
  if (r.method !== 'PUT' || r.key === undefined || r.headers['x-amz-copy-source'] !== undefined) return {};
  return verifyChecksums({ headers: r.headers, query: r.query, body: r.body, part: r.query.has('uploadId') }, profile);
}
