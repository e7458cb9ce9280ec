/**
 * Presigned URLs as apps make them. A case says which generator (`presigner:`), because the generator decides
 * what the browser's upload must match: AWS SDK v3's default signs `x-amz-checksum-crc32=AAAAAA==` (the CRC32 of
 * an empty body) into every PutObject URL, and R2 then refuses the real file (shared/reference/r2-cors.md §5).
 *
 *   harness                   aws4fetch's AwsV4Signer over exactly the object's URL (the harness's own URLs)
 *   aws4fetch                 aws4fetch's AwsClient.sign with signQuery, as Cloudflare's docs show it
 *   aws-sdk-v3                @aws-sdk/s3-request-presigner's getSignedUrl with the SDK's defaults
 *                             (requestChecksumCalculation WHEN_SUPPORTED)
 *   aws-sdk-v3-when-required  the same with requestChecksumCalculation WHEN_REQUIRED, Cloudflare's advice
 *
 * The raw client and the browser client both get their URL from here, through requestUrl (raw.ts).
 */
import { AwsClient, AwsV4Signer } from 'aws4fetch';

export const PRESIGNERS = ['harness', 'aws4fetch', 'aws-sdk-v3', 'aws-sdk-v3-when-required'] as const;
export type Presigner = (typeof PRESIGNERS)[number];

export interface PresignCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** Base URL of the S3 API, path style. */
  s3Endpoint: string;
}

export interface PresignRequest {
  method: string;
  bucket: string;
  key: string;
  /** The object's URL on the S3 API (path style), with `query` already in it. */
  url: string;
  expiresSeconds: number;
  /** Extra query parameters signed in (an UploadPart's partNumber and uploadId). */
  query: Record<string, string>;
  presigner?: Presigner;
  /** When the URL is signed; now unless a case makes an expired URL. */
  signedAt?: Date;
  /** A body checksum the server signs into the URL (`x-amz-checksum-<algorithm>`), as apps that know the file do. */
  checksum?: SignedChecksum;
}

export const CHECKSUM_NAMES = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;
export type SignedChecksum = { algorithm: (typeof CHECKSUM_NAMES)[number]; value: string };

/** The SDK's PutObject input field for each algorithm. */
const SDK_CHECKSUM_FIELD = {
  crc32: 'ChecksumCRC32',
  crc32c: 'ChecksumCRC32C',
  crc64nvme: 'ChecksumCRC64NVME',
  sha1: 'ChecksumSHA1',
  sha256: 'ChecksumSHA256',
} as const;

/** `2024-01-02T03:04:05.678Z` → `20240102T030405Z`, SigV4's date format. */
const amzDate = (date: Date) => date.toISOString().replace(/[:-]|\.\d{3}/g, '');

export async function presignUrl(credentials: PresignCredentials, r: PresignRequest): Promise<string> {
  const presigner = r.presigner ?? 'harness';
  const datetime = r.signedAt && amzDate(r.signedAt);
  const url = new URL(r.url);
  url.searchParams.set('X-Amz-Expires', String(r.expiresSeconds));
  if (r.checksum) url.searchParams.set(`x-amz-checksum-${r.checksum.algorithm}`, r.checksum.value);
  const common = {
    accessKeyId: credentials.accessKeyId,
    secretAccessKey: credentials.secretAccessKey,
    service: 's3',
    region: credentials.region,
  };
  if (presigner === 'harness') {
    const signer = new AwsV4Signer({ ...common, url: url.toString(), method: r.method, signQuery: true, datetime });
    return (await signer.sign()).url.toString();
  }
  if (presigner === 'aws4fetch') {
    const client = new AwsClient(common);
    const signed = await client.sign(url.toString(), { method: r.method, aws: { signQuery: true, datetime } });
    return signed.url;
  }
  return presignWithSdk(credentials, r, presigner === 'aws-sdk-v3' ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED');
}

/** The SDK is loaded only when a case asks for it: it is large, and most runs never need it. */
async function presignWithSdk(
  credentials: PresignCredentials,
  r: PresignRequest,
  checksums: 'WHEN_SUPPORTED' | 'WHEN_REQUIRED',
): Promise<string> {
  // The SDK warns on every process that its releases after January 2027 need Node 22; the pinned one runs on 20.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sdk = await import('@aws-sdk/client-s3');
  const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
  const client = new sdk.S3Client({
    region: credentials.region,
    endpoint: credentials.s3Endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    // Stated rather than left to the SDK, so that AWS_REQUEST_CHECKSUM_CALCULATION in a user's environment
    // cannot change what a case tests. WHEN_SUPPORTED is the SDK's default since 3.729.
    requestChecksumCalculation: checksums,
    responseChecksumValidation: checksums,
  });
  const input = { Bucket: r.bucket, Key: r.key };
  const options = { expiresIn: r.expiresSeconds, signingDate: r.signedAt };
  try {
    switch (r.method) {
      case 'GET':
        return await getSignedUrl(client, new sdk.GetObjectCommand(input), options);
      case 'HEAD':
        return await getSignedUrl(client, new sdk.HeadObjectCommand(input), options);
      case 'DELETE':
        return await getSignedUrl(client, new sdk.DeleteObjectCommand(input), options);
      case 'PUT':
        if (r.query.uploadId !== undefined && r.query.partNumber !== undefined) {
          const part = { ...input, UploadId: r.query.uploadId, PartNumber: Number(r.query.partNumber) };
          return await getSignedUrl(client, new sdk.UploadPartCommand(part), options);
        }
        // A checksum given to the command is hoisted into the URL's query by the presigner.
        return await getSignedUrl(
          client,
          new sdk.PutObjectCommand(
            r.checksum ? { ...input, [SDK_CHECKSUM_FIELD[r.checksum.algorithm]]: r.checksum.value } : input,
          ),
          options,
        );
      default:
        throw new Error(`the AWS SDK presigns GET, HEAD, PUT and DELETE, not ${r.method}`);
    }
  } finally {
    client.destroy();
  }
}

/**
 * A presigned URL altered after signing, as a tampered link would be: the signature's last hex digit changed.
 * Everything else (expiry, credential, what was signed) stays valid, so only the signature check can refuse it.
 */
export function tamperSignature(url: string): string {
  const parsed = new URL(url);
  const signature = parsed.searchParams.get('X-Amz-Signature');
  if (!signature) throw new Error('not a presigned URL: it has no X-Amz-Signature');
  const last = signature.at(-1) === '0' ? '1' : '0';
  parsed.searchParams.set('X-Amz-Signature', `${signature.slice(0, -1)}${last}`);
  return parsed.toString();
}
