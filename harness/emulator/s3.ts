/**
 * The emulator's S3 API endpoint (`<account_id>.r2.cloudflarestorage.com`, path and virtual-host style): the
 * bucket, object, multipart and CORS operations the harness and browser uploads use, with real SigV4.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { XMLParser } from 'fast-xml-parser';
import { parsePolicyText, serializePolicy } from '../policy/formats.ts';
import { s3Rejection } from '../policy/validate.ts';
import { checkUploadBody } from './checksum.ts';
import { type CorsSettings, preflightReply, profileOf, withCors } from './cors.ts';
import {
  BodyTooLarge,
  type ErrorFormat,
  headerMap,
  hostName,
  logInternalError,
  type Reply,
  RequestAborted,
  readBody,
  s3Error,
  send,
  xmlDocument,
} from './http.ts';
import { objectReply } from './object-reply.ts';
import { checkPresignedPreflight } from './presigned-preflight.ts';
import type { RequestLog } from './request-log.ts';
import { parseQuery, payloadProblem, verifySigV4 } from './sigv4.ts';
import { BUCKET_NAME, type Bucket, etagOf, type StoredObject } from './store.ts';

export interface S3Settings extends CorsSettings {
  accountId: string;
  credentials: Map<string, string>;
  maxObjectBytes: number;
  log: RequestLog;
}

/** Bodies that are not objects (CORS documents, multipart manifests) are small. */
const MAX_CONTROL_BYTES = 1024 * 1024;
/** R2's smallest multipart part but the last: 5 MiB [doc: r2/objects/multipart-objects]. */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
/** R2's limit on an object key: 1,024 bytes [doc: R2 limits]. */
export const MAX_KEY_BYTES = 1024;

/** Errors the plumbing answers on the S3 API (http.ts `guarded`), as S3 XML. */
export const s3Errors: ErrorFormat = (status, message) =>
  s3Error(status, status === 500 ? 'InternalError' : 'InvalidRequest', message);

interface S3Request {
  req: IncomingMessage;
  method: string;
  headers: Record<string, string>;
  query: Map<string, string>;
  bucketName?: string;
  key?: string;
  body: Buffer;
  /** The body's checksum as the upload stated it and the emulator verified it (checksum.ts). */
  checksum?: StoredObject['checksum'];
}

export function s3Handler(settings: S3Settings) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const headers = headerMap(req);
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const queryStart = rawUrl.indexOf('?');
    const rawPath = queryStart < 0 ? rawUrl : rawUrl.slice(0, queryStart);
    const queryPairs = parseQuery(queryStart < 0 ? '' : rawUrl.slice(queryStart));
    const { bucketName, key } = route(settings.accountId, hostName(req), rawPath);
    const bucket = bucketName ? settings.store.buckets.get(bucketName) : undefined;
    let reply: Reply;
    try {
      if (method === 'OPTIONS') {
        reply =
          (await presignedPreflightRefusal(settings, bucket, rawPath, queryPairs, headers)) ??
          preflight(settings, bucketName, bucket, headers);
      } else {
        // Authentication first, on the headers alone: an anonymous or forged request is refused before any of
        // its body is read (the signature covers the body through x-amz-content-sha256).
        const auth = await verifySigV4({ method, rawPath, query: queryPairs, headers }, (id) =>
          settings.credentials.get(id),
        );
        if (auth.kind === 'refused') reply = s3Error(auth.failure.status, auth.failure.code, auth.failure.message);
        else if (auth.kind === 'anonymous') reply = s3Error(403, 'AccessDenied', 'Access Denied');
        else if (key !== undefined && Buffer.byteLength(key) > MAX_KEY_BYTES) {
          reply = s3Error(400, 'KeyTooLongError', 'Your key is too long');
        } else {
          const limit =
            key !== undefined && (method === 'PUT' || method === 'POST') ? settings.maxObjectBytes : MAX_CONTROL_BYTES;
          const body = await readBody(req, limit);
          const payload = payloadProblem(headers, body);
          const query = new Map(queryPairs);
          const r: S3Request = { req, method, headers, query, bucketName, key, body };
          const checked = payload ? {} : await checkUploadBody(r, profileOf(settings));
          reply = payload
            ? s3Error(payload.status, payload.code, payload.message)
            : (checked.refusal ?? operate(settings, { ...r, checksum: checked.stored }, bucket));
        }
        // The bucket as it is after the operation (created, or deleted, by it).
        reply = withCors(
          settings,
          bucketName ? settings.store.buckets.get(bucketName) : undefined,
          headers.origin,
          method,
          reply,
          's3',
        );
      }
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        reply = s3Error(413, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size.');
      } else if (error instanceof RequestAborted) {
        reply = s3Error(
          400,
          'IncompleteBody',
          'You did not provide the number of bytes specified by the Content-Length HTTP header.',
        );
      } else {
        logInternalError('s3', req, error);
        reply = s3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');
      }
    }
    settings.log.add({
      surface: 's3',
      method,
      host: req.headers.host ?? '',
      path: rawPath,
      origin: headers.origin,
      accessControlRequestMethod: headers['access-control-request-method'],
      accessControlRequestHeaders: headers['access-control-request-headers'],
      status: reply.status,
      userAgent: headers['user-agent'],
    });
    send(req, res, reply);
  };
}

/** Virtual-host style (`<bucket>.<account>.r2.cloudflarestorage.com`, jurisdictions too) or path style. */
export function route(accountId: string, host: string, rawPath: string): { bucketName?: string; key?: string } {
  const virtual = new RegExp(`^([a-z0-9-]+)\\.${accountId}\\.(?:(?:eu|fedramp)\\.)?r2\\.cloudflarestorage\\.com$`).exec(
    host,
  );
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  if (virtual) {
    const key = rawPath.replace(/^\//, '');
    return { bucketName: virtual[1], key: key === '' ? undefined : decode(key) };
  }
  const [, bucketName, ...rest] = rawPath.split('/');
  const key = rest.join('/');
  return { bucketName: bucketName ? decode(bucketName) : undefined, key: key === '' ? undefined : decode(key) };
}

function preflight(
  settings: S3Settings,
  bucketName: string | undefined,
  bucket: Bucket | undefined,
  headers: Record<string, string>,
): Reply {
  if (headers.origin === undefined) {
    const { status, code, message } = settings.profile.preflightWithoutOrigin;
    return s3Error(status, code, message);
  }
  if (!bucketName || !bucket) return s3Error(404, 'NoSuchBucket', 'The specified bucket does not exist.');
  return preflightReply(settings, bucket, headers, 'xml');
}

/** An expired or tampered presigned URL fails at its preflight (presigned-preflight.ts); with CORS headers or not. */
async function presignedPreflightRefusal(
  settings: S3Settings,
  bucket: Bucket | undefined,
  rawPath: string,
  query: [string, string][],
  headers: Record<string, string>,
): Promise<Reply | undefined> {
  if (headers.origin === undefined || !bucket) return undefined;
  const refusal = await checkPresignedPreflight(
    { rawPath, query, headers },
    (id) => settings.credentials.get(id),
    settings.profile,
  );
  if (!refusal || !settings.profile.corsOnPresignedPreflightRefusal) return refusal;
  const allowed = preflightReply(settings, bucket, headers, 'xml');
  if (allowed.status >= 400) return refusal;
  const cors = allowed.headers.filter(([name]) => /^access-control-|^vary$/i.test(name));
  return { ...refusal, headers: [...refusal.headers, ...cors] };
}

/** Query parameters of ListObjects(V2); the SDK adds x-id to some calls. */
const LIST_PARAMS = new Set([
  'list-type',
  'prefix',
  'delimiter',
  'max-keys',
  'continuation-token',
  'start-after',
  'encoding-type',
  'fetch-owner',
  'x-id',
]);

const noSuchBucket = () => s3Error(404, 'NoSuchBucket', 'The specified bucket does not exist.');
const notImplemented = () =>
  s3Error(501, 'NotImplemented', 'A header or query you provided implies functionality that is not implemented.');

function operate(settings: S3Settings, r: S3Request, bucket: Bucket | undefined): Reply {
  const { method, query } = r;
  if (!r.bucketName) return method === 'GET' ? listBuckets(settings) : notImplemented();
  if (r.key === undefined) {
    if (query.has('cors')) {
      if (!bucket) return noSuchBucket();
      if (method === 'PUT') return putCors(settings, bucket, r.body);
      if (method === 'GET') return getCors(settings, bucket);
      if (method === 'DELETE') {
        settings.store.setPolicy(bucket, null);
        return { status: 204, headers: [] };
      }
      return notImplemented();
    }
    if (method === 'PUT') return createBucket(settings, r.bucketName);
    if (!bucket) return noSuchBucket();
    if (method === 'DELETE') {
      if (bucket.objects.size > 0)
        return s3Error(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty.');
      settings.store.deleteBucket(bucket.name);
      return { status: 204, headers: [] };
    }
    if (method === 'HEAD') return { status: 200, headers: [] };
    if (method === 'POST' && query.has('delete')) return deleteObjects(settings, bucket, r.body);
    if (method === 'GET' && query.has('uploads')) return listMultipartUploads(bucket, query);
    // A GET with any other subresource (?acl, ?policy, ?versioning…) is an operation the emulator lacks.
    if (method === 'GET')
      return [...query.keys()].every((k) => LIST_PARAMS.has(k)) ? listObjects(bucket, query) : notImplemented();
    return notImplemented();
  }
  if (!bucket) return noSuchBucket();
  const key = r.key;
  if (method === 'POST' && query.has('uploads')) return createMultipart(bucket, key, r.headers);
  if (method === 'PUT' && query.has('uploadId')) return uploadPart(bucket, query, r.body);
  if (method === 'POST' && query.has('uploadId')) return completeMultipart(settings, bucket, key, query, r.body);
  if (method === 'DELETE' && query.has('uploadId')) {
    if (!bucket.uploads.delete(query.get('uploadId') ?? '')) return noSuchUpload();
    return { status: 204, headers: [] };
  }
  if (query.has('uploadId') || r.headers['x-amz-copy-source']) return notImplemented();
  if (method === 'PUT') return putObject(settings, bucket, key, r);
  if (method === 'GET' || method === 'HEAD') return getObject(settings, bucket, key, r);
  if (method === 'DELETE') {
    settings.store.deleteObject(bucket, key);
    return { status: 204, headers: [] };
  }
  return notImplemented();
}

function listBuckets(settings: S3Settings): Reply {
  const buckets = [...settings.store.buckets.values()].map((b) => ({
    Name: b.name,
    CreationDate: b.createdAt.toISOString(),
  }));
  return xmlReply(200, 'ListAllMyBucketsResult', {
    Buckets: { Bucket: buckets },
    Owner: { ID: settings.accountId, DisplayName: settings.accountId },
  });
}

function createBucket(settings: S3Settings, name: string): Reply {
  if (!BUCKET_NAME.test(name)) return s3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.');
  if (settings.store.buckets.has(name)) {
    return s3Error(
      409,
      'BucketAlreadyOwnedByYou',
      'Your previous request to create the named bucket succeeded and you already own it.',
    );
  }
  settings.store.createBucket(name);
  return { status: 200, headers: [['Location', `/${name}`]] };
}

function putCors(settings: S3Settings, bucket: Bucket, body: Buffer): Reply {
  const parsed = parsePolicyText(body.toString('utf8'), 'xml');
  if (!parsed.ok) {
    const rejection = s3Rejection(parsed.problems);
    return s3Error(rejection.status, rejection.code, rejection.message);
  }
  settings.store.setPolicy(bucket, parsed.policy);
  return { status: 200, headers: [] };
}

function getCors(settings: S3Settings, bucket: Bucket): Reply {
  const policy = settings.store.controlPolicy(bucket);
  if (!policy) return s3Error(404, 'NoSuchCORSConfiguration', 'The CORS configuration does not exist');
  return { status: 200, headers: [['Content-Type', 'application/xml']], body: serializePolicy(policy, 'xml') };
}

function metadataOf(headers: Record<string, string>): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('x-amz-meta-')) metadata[name.slice('x-amz-meta-'.length)] = value;
  }
  return metadata;
}

function putObject(settings: S3Settings, bucket: Bucket, key: string, r: S3Request): Reply {
  const object: StoredObject = {
    body: r.body,
    contentType: r.headers['content-type'] ?? 'application/octet-stream',
    etag: etagOf(r.body),
    lastModified: new Date(),
    metadata: metadataOf(r.headers),
    checksum: r.checksum,
  };
  settings.store.putObject(bucket, key, object);
  return { status: 200, headers: [['ETag', object.etag]] };
}

function getObject(settings: S3Settings, bucket: Bucket, key: string, r: S3Request): Reply {
  const object = bucket.objects.get(key);
  if (!object) return s3Error(404, 'NoSuchKey', 'The specified key does not exist.');
  return objectReply(object, { headers: r.headers, query: r.query }, 'xml', settings.profile);
}

function listObjects(bucket: Bucket, query: Map<string, string>): Reply {
  const prefix = query.get('prefix') ?? '';
  const delimiter = query.get('delimiter') ?? '';
  const maxKeys = Math.min(1000, Math.max(0, Number(query.get('max-keys') ?? 1000) || 0));
  const after = query.get('continuation-token') ?? query.get('start-after') ?? '';
  const keys = [...bucket.objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
  const contents: StoredObject[] = [];
  const names: string[] = [];
  const prefixes = new Set<string>();
  let truncated = false;
  let last = '';
  for (const key of keys) {
    if (names.length + prefixes.size >= maxKeys) {
      truncated = true;
      break;
    }
    const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    if (cut >= 0) prefixes.add(key.slice(0, cut + delimiter.length));
    else {
      names.push(key);
      contents.push(bucket.objects.get(key) as StoredObject);
    }
    last = key;
  }
  return xmlReply(200, 'ListBucketResult', {
    Name: bucket.name,
    Prefix: prefix,
    ...(delimiter ? { Delimiter: delimiter } : {}),
    KeyCount: names.length + prefixes.size,
    MaxKeys: maxKeys,
    IsTruncated: truncated,
    ...(truncated ? { NextContinuationToken: last } : {}),
    Contents: contents.map((o, i) => ({
      Key: names[i],
      LastModified: o.lastModified.toISOString(),
      ETag: o.etag,
      Size: o.body.length,
      StorageClass: 'STANDARD',
    })),
    CommonPrefixes: [...prefixes].map((p) => ({ Prefix: p })),
  });
}

const xmlParser = new XMLParser({ parseTagValue: false, isArray: (name) => name === 'Part' || name === 'Object' });

function deleteObjects(settings: S3Settings, bucket: Bucket, body: Buffer): Reply {
  let keys: string[];
  try {
    const doc = xmlParser.parse(body.toString('utf8'));
    keys = (doc.Delete?.Object ?? []).map((o: { Key: string }) => String(o.Key));
  } catch {
    return malformed();
  }
  if (keys.length === 0 || keys.length > 1000) return malformed();
  for (const key of keys) settings.store.deleteObject(bucket, key);
  return xmlReply(200, 'DeleteResult', { Deleted: keys.map((Key) => ({ Key })) });
}

/**
 * ListMultipartUploads (`GET /<bucket>?uploads`): the uploads started and neither completed nor aborted, by key
 * then upload id, `prefix` and `max-uploads` (≤ 1000) honoured, continued with `key-marker` and
 * `upload-id-marker` as S3 does.
 */
function listMultipartUploads(bucket: Bucket, query: Map<string, string>): Reply {
  const prefix = query.get('prefix') ?? '';
  const maxUploads = Math.min(1000, Math.max(0, Number(query.get('max-uploads') ?? 1000) || 0));
  const keyMarker = query.get('key-marker') ?? '';
  const idMarker = query.get('upload-id-marker') ?? '';
  const open = [...bucket.uploads.entries()]
    .map(([uploadId, u]) => ({ key: u.key, uploadId, initiated: u.initiated }))
    .filter((u) => u.key.startsWith(prefix))
    .filter((u) => u.key > keyMarker || (u.key === keyMarker && idMarker !== '' && u.uploadId > idMarker))
    .sort((a, b) => (a.key === b.key ? a.uploadId.localeCompare(b.uploadId) : a.key < b.key ? -1 : 1));
  const page = open.slice(0, maxUploads);
  const truncated = open.length > page.length;
  const last = page.at(-1);
  return xmlReply(200, 'ListMultipartUploadsResult', {
    Bucket: bucket.name,
    KeyMarker: keyMarker,
    UploadIdMarker: idMarker,
    ...(truncated && last ? { NextKeyMarker: last.key, NextUploadIdMarker: last.uploadId } : {}),
    Prefix: prefix,
    MaxUploads: maxUploads,
    IsTruncated: truncated,
    Upload: page.map((u) => ({
      Key: u.key,
      UploadId: u.uploadId,
      Initiated: u.initiated.toISOString(),
      StorageClass: 'STANDARD',
    })),
  });
}

function createMultipart(bucket: Bucket, key: string, headers: Record<string, string>): Reply {
  const uploadId = randomBytes(16).toString('hex');
  bucket.uploads.set(uploadId, {
    key,
    initiated: new Date(),
    contentType: headers['content-type'] ?? 'application/octet-stream',
    metadata: metadataOf(headers),
    parts: new Map(),
  });
  return xmlReply(200, 'InitiateMultipartUploadResult', { Bucket: bucket.name, Key: key, UploadId: uploadId });
}

function uploadPart(bucket: Bucket, query: Map<string, string>, body: Buffer): Reply {
  const upload = bucket.uploads.get(query.get('uploadId') ?? '');
  if (!upload) return noSuchUpload();
  const partNumber = Number(query.get('partNumber'));
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) {
    return s3Error(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive');
  }
  const etag = etagOf(body);
  upload.parts.set(partNumber, { body, etag });
  return { status: 200, headers: [['ETag', etag]] };
}

function completeMultipart(
  settings: S3Settings,
  bucket: Bucket,
  key: string,
  query: Map<string, string>,
  body: Buffer,
): Reply {
  const uploadId = query.get('uploadId') ?? '';
  const upload = bucket.uploads.get(uploadId);
  if (!upload || upload.key !== key) return noSuchUpload();
  let parts: { PartNumber: string; ETag: string }[];
  try {
    parts = xmlParser.parse(body.toString('utf8')).CompleteMultipartUpload?.Part ?? [];
  } catch {
    return malformed();
  }
  if (parts.length === 0) return malformed();
  const chosen = [];
  for (const part of parts) {
    const stored = upload.parts.get(Number(part.PartNumber));
    const etag = String(part.ETag).replace(/^"?/, '"').replace(/"?$/, '"');
    if (!stored || stored.etag !== etag) {
      return s3Error(400, 'InvalidPart', 'One or more of the specified parts could not be found.');
    }
    chosen.push(stored);
  }
  // [doc] R2: "Object part sizes must be at least 5MiB … The last part has no minimum size." Refused at the
  // Complete, as on AWS, with AWS's error (R2's code for it is not public).
  if (chosen.slice(0, -1).some((part) => part.body.length < MIN_PART_BYTES)) {
    return s3Error(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.');
  }
  // The multipart ETag: MD5 of the parts' binary MD5s, then "-<number of parts>".
  const digest = createHash('md5');
  for (const part of chosen) digest.update(Buffer.from(part.etag.slice(1, -1), 'hex'));
  const etag = `"${digest.digest('hex')}-${chosen.length}"`;
  settings.store.putObject(bucket, key, {
    body: Buffer.concat(chosen.map((p) => p.body)),
    contentType: upload.contentType,
    etag,
    lastModified: new Date(),
    metadata: upload.metadata,
  });
  bucket.uploads.delete(uploadId);
  return xmlReply(200, 'CompleteMultipartUploadResult', {
    Location: `/${bucket.name}/${key}`,
    Bucket: bucket.name,
    Key: key,
    ETag: etag,
  });
}

const noSuchUpload = () => s3Error(404, 'NoSuchUpload', 'The specified multipart upload does not exist.');
const malformed = () =>
  s3Error(
    400,
    'MalformedXML',
    'The XML you provided was not well formed or did not validate against our published schema.',
  );

function xmlReply(status: number, root: string, content: unknown): Reply {
  return { status, headers: [['Content-Type', 'application/xml']], body: xmlDocument(root, content) };
}
