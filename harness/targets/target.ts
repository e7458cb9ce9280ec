/**
 * A target: somewhere a bucket's CORS policy can be applied and requested — live R2, the emulator (which is the
 * R2 adapter pointed at it), any S3 endpoint. The runner and the clients see only this interface.
 */
import type { Dispatcher } from 'undici';
import type { Surface } from '../cases/model.ts';
import type { Presigner, SignedChecksum } from '../clients/presign.ts';
import type { AddressRule } from '../net/address-map.ts';
import type { CorsPolicy } from '../policy/model.ts';

export interface TargetResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** R2 refused a policy: which API, and the error it gave. */
export class PolicyRejected extends Error {
  constructor(
    readonly api: 's3' | 'rest',
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${api === 's3' ? 'S3 API' : 'REST API'} refused the policy: ${status} ${code}: ${message}`);
  }
}

/** A target cannot be used as configured (credentials, bucket, missing variable). */
export class TargetError extends Error {}

export interface Target {
  /** `emulator`, `r2` or `s3`. */
  kind: string;
  /** What this target is, for messages and journals: never a secret. */
  identity: string;
  /** undici dispatcher for every request to this target (maps host names, trusts its CA). */
  dispatcher: Dispatcher;
  /** Host names this target answers at other addresses (the emulator's listeners); empty for a live target. */
  hostMap: AddressRule[];
  /** The S3 API's host and port (path-style and presigned URLs point there). */
  readonly s3Address: { host: string; port: number };
  /** Which surfaces this target can serve for a bucket (public and custom need R2's REST API). */
  surfaces(bucket: string): Promise<Set<Surface>>;

  listBuckets(): Promise<string[]>;
  bucketExists(bucket: string): Promise<boolean>;
  /**
   * Creates a bucket with an r2.dev URL (and, where the target has a domain for it, a custom domain). A run
   * creates buckets only where it owns them, the emulator; on a live account it uses the ones it is given.
   */
  createBucket?(bucket: string): Promise<void>;
  /** Deletes an empty bucket the run created. */
  deleteBucket?(bucket: string): Promise<void>;

  getPolicy(bucket: string): Promise<CorsPolicy | null>;
  /** Applies a policy through the S3 API (or the REST API); throws PolicyRejected when refused. */
  putPolicy(bucket: string, policy: CorsPolicy, api?: 's3' | 'rest'): Promise<void>;
  deletePolicy(bucket: string): Promise<void>;
  /** Whether the REST API can be used (a token was given). */
  hasRestApi: boolean;

  putObject(bucket: string, key: string, body: string | Uint8Array, contentType?: string): Promise<void>;
  deleteObject(bucket: string, key: string): Promise<void>;
  listObjects(bucket: string, prefix: string): Promise<string[]>;

  /** The object's URL on a surface, unsigned. */
  objectUrl(surface: Surface, bucket: string, key: string): Promise<string>;
  /**
   * A presigned URL (S3 endpoint only), with extra query parameters signed in (an UploadPart's); made by the
   * generator a case names (harness/clients/presign.ts), signed now or at `signedAt`.
   */
  presign(
    method: string,
    bucket: string,
    key: string,
    expiresSeconds: number,
    query?: Record<string, string>,
    options?: { presigner?: Presigner; signedAt?: Date; checksum?: SignedChecksum },
  ): Promise<string>;
  /** Multipart upload, as a server starts and completes one for a browser that uploads the parts. */
  startMultipart(bucket: string, key: string, contentType?: string): Promise<string>;
  completeMultipart(
    bucket: string,
    key: string,
    uploadId: string,
    parts: { partNumber: number; etag: string }[],
  ): Promise<string>;
  abortMultipart(bucket: string, key: string, uploadId: string): Promise<void>;
  /** Multipart uploads started under the prefix and neither completed nor aborted (their parts are stored). */
  listMultipartUploads(bucket: string, prefix: string): Promise<{ key: string; uploadId: string }[]>;
  /** Headers that sign a request (S3 endpoint), to be sent with `headers`. */
  sign(method: string, url: string, headers: Record<string, string>, body?: string): Promise<Record<string, string>>;
  /** Purges the custom domain's cache for the bucket. */
  purge(bucket: string, keys: 'everything' | string[]): Promise<void>;
  close(): Promise<void>;
}
