/**
 * The R2 adapter: R2's S3 API (SigV4 with aws4fetch) and, when a token is given, its Cloudflare REST API.
 * Pointed at Cloudflare it is the live target; pointed at the embedded emulator (its env file: endpoints, CA,
 * host mapping) it is the emulator target. The same code either way, so every emulator run exercises the code
 * the nightly live run uses.
 */
import { AwsV4Signer } from 'aws4fetch';
import { type Dispatcher, request } from 'undici';
import type { Surface } from '../cases/model.ts';
import { redactBody } from '../check/redact.ts';
import { type Presigner, presignUrl, type SignedChecksum } from '../clients/presign.ts';
import { type AddressRule, addressMapAgent } from '../net/address-map.ts';
import { parsePolicyText, serializePolicy } from '../policy/formats.ts';
import type { CorsPolicy } from '../policy/model.ts';
import { PolicyRejected, type Target, TargetError, type TargetResponse } from './target.ts';

export interface R2Config {
  kind: 'r2' | 'emulator' | 's3';
  accountId?: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Base URL of the S3 API, path style. */
  s3Endpoint: string;
  region?: string;
  apiToken?: string;
  /** Base URL of the REST API, ending in /client/v4. */
  apiBase?: string;
  /** PEM of a CA to trust besides the system's (the emulator's). */
  ca?: string;
  /** Host names to connect elsewhere (the emulator's public and custom-domain listeners). */
  addressRules?: AddressRule[];
  /** Domain under which the harness attaches custom domains to buckets it creates (emulator only). */
  customDomainSuffix?: string;
}

/** Object keys in URLs: each path segment encoded, slashes kept. */
export function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

/** Cloudflare's REST envelope, with the fields of R2's domain results the adapter reads. */
interface RestEnvelope {
  success: boolean;
  errors: { code: number; message: string }[];
  result: {
    enabled?: boolean;
    domain?: string;
    domains?: { domain: string; enabled: boolean; zoneId: string }[];
  } | null;
}

interface Domains {
  publicHost?: string;
  custom?: { domain: string; zoneId: string };
}

export class R2Target implements Target {
  readonly kind: string;
  readonly identity: string;
  readonly dispatcher: Dispatcher;
  readonly hostMap: AddressRule[];
  readonly hasRestApi: boolean;
  private readonly domains = new Map<string, Promise<Domains>>();

  constructor(private readonly config: R2Config) {
    this.kind = config.kind;
    this.identity = `${config.kind} ${config.s3Endpoint}${config.accountId ? ` (account ${config.accountId})` : ''}`;
    this.hostMap = config.addressRules ?? [];
    this.dispatcher = addressMapAgent({ rules: this.hostMap, ca: config.ca });
    this.hasRestApi = Boolean(config.apiToken && config.apiBase && config.accountId);
  }

  /** Where the S3 API is: presigned and path-style URLs point there (a browser's proxy must let them through). */
  get s3Address(): { host: string; port: number } {
    const url = new URL(this.config.s3Endpoint);
    return { host: url.hostname, port: Number(url.port || (url.protocol === 'http:' ? 80 : 443)) };
  }

  // --- S3 API -------------------------------------------------------------------------------------------------

  private bucketUrl(bucket: string, key?: string, query = ''): string {
    return `${this.config.s3Endpoint.replace(/\/$/, '')}/${encodeURIComponent(bucket)}${key === undefined ? '' : `/${encodeKey(key)}`}${query}`;
  }

  private signer(
    method: string,
    url: string,
    headers: Record<string, string>,
    body?: string | Uint8Array,
    signQuery = false,
    expires?: number,
  ) {
    const target = new URL(url);
    if (expires !== undefined) target.searchParams.set('X-Amz-Expires', String(expires));
    return new AwsV4Signer({
      url: target.toString(),
      method,
      headers,
      body,
      accessKeyId: this.config.accessKeyId,
      secretAccessKey: this.config.secretAccessKey,
      service: 's3',
      region: this.config.region ?? 'auto',
      signQuery,
    });
  }

  private async s3(
    method: string,
    url: string,
    body?: string | Uint8Array,
    headers: Record<string, string> = {},
  ): Promise<TargetResponse> {
    const signed = await this.signer(method, url, headers, body).sign();
    const response = await request(signed.url.toString(), {
      method: method as Dispatcher.HttpMethod,
      headers: Object.fromEntries(signed.headers),
      body,
      dispatcher: this.dispatcher,
    });
    return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
  }

  private static errorCode(body: string): string {
    return /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? '';
  }

  private fail(what: string, response: TargetResponse, bucket?: string): never {
    const code = R2Target.errorCode(response.body);
    if (response.status === 401 || code === 'InvalidAccessKeyId' || code === 'Unauthorized') {
      throw new TargetError(`${what}: the access key in R2_ACCESS_KEY_ID was refused (${response.status} ${code})`);
    }
    if (code === 'SignatureDoesNotMatch') {
      throw new TargetError(
        `${what}: the signature was refused; check R2_SECRET_ACCESS_KEY (${response.status} ${code})`,
      );
    }
    if (code === 'NoSuchBucket') throw new TargetError(`${what}: bucket '${bucket}' does not exist (${this.identity})`);
    throw new TargetError(`${what}: ${response.status} ${code || redactBody(response.body.slice(0, 200))}`);
  }

  async listBuckets(): Promise<string[]> {
    const response = await this.s3('GET', `${this.config.s3Endpoint.replace(/\/$/, '')}/`);
    if (response.status !== 200) this.fail('listing buckets', response);
    return [...response.body.matchAll(/<Name>([^<]*)<\/Name>/g)].map((m) => m[1]);
  }

  async bucketExists(bucket: string): Promise<boolean> {
    const response = await this.s3('HEAD', this.bucketUrl(bucket));
    if (response.status === 404) return false;
    if (response.status !== 200) this.fail(`checking bucket '${bucket}'`, response, bucket);
    return true;
  }

  async getPolicy(bucket: string): Promise<CorsPolicy | null> {
    const response = await this.s3('GET', this.bucketUrl(bucket, undefined, '?cors'));
    if (response.status === 404 && R2Target.errorCode(response.body) === 'NoSuchCORSConfiguration') return null;
    if (response.status !== 200) this.fail(`reading the CORS policy of '${bucket}'`, response, bucket);
    const parsed = parsePolicyText(response.body, 'xml');
    if (!parsed.ok)
      throw new TargetError(`the CORS policy of '${bucket}' cannot be read: ${parsed.problems[0]?.message}`);
    return parsed.policy;
  }

  async putPolicy(bucket: string, policy: CorsPolicy, api: 's3' | 'rest' = 's3'): Promise<void> {
    if (api === 'rest') {
      const response = await this.rest(
        'PUT',
        `/r2/buckets/${encodeURIComponent(bucket)}/cors`,
        JSON.parse(serializePolicy(policy, 'rules')),
      );
      if (!response.json.success) {
        const error = response.json.errors[0] ?? { code: 0, message: 'unknown error' };
        throw new PolicyRejected('rest', response.status, String(error.code), error.message);
      }
      return;
    }
    const response = await this.s3('PUT', this.bucketUrl(bucket, undefined, '?cors'), serializePolicy(policy, 'xml'), {
      'content-type': 'application/xml',
    });
    if (response.status === 400) {
      const message = /<Message>([^<]*)<\/Message>/.exec(response.body)?.[1] ?? '';
      throw new PolicyRejected('s3', response.status, R2Target.errorCode(response.body), message);
    }
    if (response.status !== 200) this.fail(`setting the CORS policy of '${bucket}'`, response, bucket);
  }

  async deletePolicy(bucket: string): Promise<void> {
    const response = await this.s3('DELETE', this.bucketUrl(bucket, undefined, '?cors'));
    if (response.status !== 204 && response.status !== 200)
      this.fail(`deleting the CORS policy of '${bucket}'`, response, bucket);
  }

  async putObject(
    bucket: string,
    key: string,
    body: string | Uint8Array,
    contentType = 'application/octet-stream',
  ): Promise<void> {
    const response = await this.s3('PUT', this.bucketUrl(bucket, key), body, { 'content-type': contentType });
    if (response.status !== 200) this.fail(`writing object '${key}' to '${bucket}'`, response, bucket);
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    const response = await this.s3('DELETE', this.bucketUrl(bucket, key));
    if (response.status !== 204 && response.status !== 200)
      this.fail(`deleting object '${key}' from '${bucket}'`, response, bucket);
  }

  async listObjects(bucket: string, prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token = '';
    for (;;) {
      const query = `?list-type=2&prefix=${encodeURIComponent(prefix)}${token ? `&continuation-token=${encodeURIComponent(token)}` : ''}`;
      const response = await this.s3('GET', this.bucketUrl(bucket, undefined, query));
      if (response.status !== 200) this.fail(`listing objects of '${bucket}'`, response, bucket);
      keys.push(...[...response.body.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => decodeXml(m[1])));
      const next = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(response.body)?.[1];
      if (!next) return keys;
      token = decodeXml(next);
    }
  }

  async presign(
    method: string,
    bucket: string,
    key: string,
    expiresSeconds: number,
    query: Record<string, string> = {},
    options: { presigner?: Presigner; signedAt?: Date; checksum?: SignedChecksum } = {},
  ): Promise<string> {
    const search = new URLSearchParams(query).toString();
    const { accessKeyId, secretAccessKey, s3Endpoint, region = 'auto' } = this.config;
    return presignUrl(
      { accessKeyId, secretAccessKey, s3Endpoint, region },
      {
        method,
        bucket,
        key,
        url: this.bucketUrl(bucket, key, search ? `?${search}` : ''),
        expiresSeconds,
        query,
        ...options,
      },
    );
  }

  async startMultipart(bucket: string, key: string, contentType = 'application/octet-stream'): Promise<string> {
    const response = await this.s3('POST', this.bucketUrl(bucket, key, '?uploads'), undefined, {
      'content-type': contentType,
    });
    const uploadId = /<UploadId>([^<]*)<\/UploadId>/.exec(response.body)?.[1];
    if (response.status !== 200 || !uploadId) this.fail(`starting a multipart upload of '${key}'`, response, bucket);
    return decodeXml(uploadId);
  }

  async abortMultipart(bucket: string, key: string, uploadId: string): Promise<void> {
    const response = await this.s3('DELETE', this.bucketUrl(bucket, key, `?uploadId=${encodeURIComponent(uploadId)}`));
    if (response.status !== 204 && response.status !== 404)
      this.fail(`aborting the multipart upload of '${key}'`, response, bucket);
  }

  async listMultipartUploads(bucket: string, prefix: string): Promise<{ key: string; uploadId: string }[]> {
    const uploads: { key: string; uploadId: string }[] = [];
    let markers = '';
    for (;;) {
      const query = `?uploads&prefix=${encodeURIComponent(prefix)}${markers}`;
      const response = await this.s3('GET', this.bucketUrl(bucket, undefined, query));
      // An S3 endpoint without the operation (some emulators) can hold no open upload for the run to abort.
      if (response.status === 501) return uploads;
      if (response.status !== 200) this.fail(`listing the open multipart uploads of '${bucket}'`, response, bucket);
      for (const [, upload] of response.body.matchAll(/<Upload>([\s\S]*?)<\/Upload>/g)) {
        const key = /<Key>([^<]*)<\/Key>/.exec(upload)?.[1];
        const uploadId = /<UploadId>([^<]*)<\/UploadId>/.exec(upload)?.[1];
        if (key !== undefined && uploadId !== undefined)
          uploads.push({ key: decodeXml(key), uploadId: decodeXml(uploadId) });
      }
      const truncated = /<IsTruncated>true<\/IsTruncated>/.test(response.body);
      const nextKey = /<NextKeyMarker>([^<]*)<\/NextKeyMarker>/.exec(response.body)?.[1];
      const nextId = /<NextUploadIdMarker>([^<]*)<\/NextUploadIdMarker>/.exec(response.body)?.[1];
      if (!truncated || nextKey === undefined) return uploads;
      markers = `&key-marker=${encodeURIComponent(decodeXml(nextKey))}${nextId ? `&upload-id-marker=${encodeURIComponent(decodeXml(nextId))}` : ''}`;
    }
  }

  async completeMultipart(
    bucket: string,
    key: string,
    uploadId: string,
    parts: { partNumber: number; etag: string }[],
  ): Promise<string> {
    const body = `<CompleteMultipartUpload>${parts
      .map(
        (p) =>
          `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>${p.etag.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</ETag></Part>`,
      )
      .join('')}</CompleteMultipartUpload>`;
    const query = `?uploadId=${encodeURIComponent(uploadId)}`;
    const response = await this.s3('POST', this.bucketUrl(bucket, key, query), body, {
      'content-type': 'application/xml',
    });
    const etag = /<ETag>([^<]*)<\/ETag>/.exec(response.body)?.[1];
    if (response.status !== 200 || !etag) this.fail(`completing the multipart upload of '${key}'`, response, bucket);
    return decodeXml(etag);
  }

  async sign(
    method: string,
    url: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<Record<string, string>> {
    const signed = await this.signer(method, url, headers, body).sign();
    return Object.fromEntries(signed.headers);
  }

  // --- REST API and public surfaces ---------------------------------------------------------------------------

  private async rest(method: string, path: string, body?: unknown) {
    if (!this.hasRestApi) throw new TargetError('this needs the REST API: set CLOUDFLARE_API_TOKEN');
    const response = await request(`${this.config.apiBase}/accounts/${this.config.accountId}${path}`, {
      method: method as Dispatcher.HttpMethod,
      headers: { authorization: `Bearer ${this.config.apiToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      dispatcher: this.dispatcher,
    });
    const text = await response.body.text();
    let json: RestEnvelope;
    try {
      json = JSON.parse(text);
    } catch {
      throw new TargetError(`REST API ${method} ${path}: ${response.statusCode}, not JSON`);
    }
    if (response.statusCode === 401 || response.statusCode === 403) {
      throw new TargetError(
        `REST API: the token in CLOUDFLARE_API_TOKEN was refused (${response.statusCode} ${json.errors?.[0]?.message ?? ''})`,
      );
    }
    return { status: response.statusCode, json };
  }

  private lookUpDomains(bucket: string): Promise<Domains> {
    let domains = this.domains.get(bucket);
    if (!domains) {
      domains = (async () => {
        if (!this.hasRestApi) return {};
        const managed = await this.rest('GET', `/r2/buckets/${encodeURIComponent(bucket)}/domains/managed`);
        const custom = await this.rest('GET', `/r2/buckets/${encodeURIComponent(bucket)}/domains/custom`);
        const first = custom.json.result?.domains?.find((d) => d.enabled);
        return {
          publicHost: managed.json.result?.enabled ? managed.json.result.domain : undefined,
          custom: first ? { domain: first.domain, zoneId: first.zoneId } : undefined,
        };
      })();
      this.domains.set(bucket, domains);
    }
    return domains;
  }

  async surfaces(bucket: string): Promise<Set<Surface>> {
    const domains = await this.lookUpDomains(bucket);
    const surfaces = new Set<Surface>(['s3']);
    if (domains.publicHost) surfaces.add('public');
    if (domains.custom) surfaces.add('custom');
    return surfaces;
  }

  async createBucket(bucket: string): Promise<void> {
    const response = await this.s3('PUT', this.bucketUrl(bucket));
    if (response.status !== 200) this.fail(`creating bucket '${bucket}'`, response, bucket);
    if (!this.hasRestApi) return;
    await this.rest('PUT', `/r2/buckets/${encodeURIComponent(bucket)}/domains/managed`, { enabled: true });
    if (this.config.customDomainSuffix) {
      const domain = `${bucket}.${this.config.customDomainSuffix}`;
      await this.rest('POST', `/r2/buckets/${encodeURIComponent(bucket)}/domains/custom`, {
        domain,
        zoneId: this.config.customDomainSuffix,
        enabled: true,
      });
    }
    this.domains.delete(bucket);
  }

  async deleteBucket(bucket: string): Promise<void> {
    const response = await this.s3('DELETE', this.bucketUrl(bucket));
    if (response.status !== 204 && response.status !== 200 && response.status !== 404)
      this.fail(`deleting bucket '${bucket}'`, response, bucket);
    this.domains.delete(bucket);
  }

  async objectUrl(surface: Surface, bucket: string, key: string): Promise<string> {
    if (surface === 's3') return this.bucketUrl(bucket, key);
    const domains = await this.lookUpDomains(bucket);
    const host = surface === 'public' ? domains.publicHost : domains.custom?.domain;
    if (!host)
      throw new TargetError(`bucket '${bucket}' has no ${surface === 'public' ? 'r2.dev URL' : 'custom domain'}`);
    return `https://${host}/${encodeKey(key)}`;
  }

  async purge(bucket: string, keys: 'everything' | string[]): Promise<void> {
    const { custom } = await this.lookUpDomains(bucket);
    if (!custom) throw new TargetError(`bucket '${bucket}' has no custom domain to purge`);
    const body =
      keys === 'everything'
        ? { purge_everything: true }
        : { files: keys.map((k) => `https://${custom.domain}/${encodeKey(k)}`) };
    const response = await request(`${this.config.apiBase}/zones/${custom.zoneId}/purge_cache`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.config.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      dispatcher: this.dispatcher,
    });
    const text = await response.body.text();
    if (response.statusCode !== 200)
      throw new TargetError(`purging the cache of ${custom.domain}: ${response.statusCode} ${text.slice(0, 200)}`);
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

function decodeXml(text: string): string {
  return text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}
