/**
 * A case file as the harness uses it once loaded: the simple form (policy + requests) and the sequence form
 * (steps) both become a list of steps, and every step keeps its path in the YAML so that a failure can point
 * into the file. The shape of the file itself is harness/schema/case.schema.json.
 */
import type { Presigner } from '../clients/presign.ts';
import type { CorsPolicy, DocPath, PolicyFormat } from '../policy/model.ts';
import type { Position } from '../schema/locate.ts';

export interface HeaderMatcher {
  equals?: string;
  /** A regular expression the whole value must match. */
  pattern?: string;
  absent?: true;
  assumed?: string;
}

export interface HttpExpectation {
  status?: number;
  /** Lower-case header name → exact value, or a matcher. */
  headers?: Record<string, string | HeaderMatcher>;
  assumed?: string;
}

export interface BrowserExpectation {
  outcome: 'allowed' | 'blocked';
  status?: number;
  readable?: string[];
  unreadable?: string[];
  preflight?: 'sent' | 'cached' | 'none';
  reason?: string;
  /** The response body as JavaScript reads it (text). */
  body?: string;
  /** Initiators img and video: whether the page could read the pixels it drew (getImageData) or the canvas was tainted. */
  canvas?: 'readable' | 'tainted';
  assumed?: string;
}

/**
 * What in the page makes the request: `fetch()` (the default), or markup that fetches on its own terms — an
 * @font-face font, an <img> (drawn to a canvas), a <video>, a <script type="module">. Their wire requests are
 * harness/fetch/initiators.ts.
 */
export type Initiator = 'fetch' | 'font' | 'img' | 'video' | 'script';

export type Surface = 's3' | 'public' | 'custom';
export type Auth = 'none' | 'presigned' | 'signed';

export interface CaseRequest {
  id: string;
  title?: string;
  /** Page origin; undefined: no Origin header at all. */
  from?: string;
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE' | 'OPTIONS';
  surface: Surface;
  key: string;
  auth?: Auth;
  /** With auth presigned: which generator makes the URL (default harness). */
  presigner?: Presigner;
  /** With auth presigned: the URL was signed this many seconds before it is used (past its expiry: expired). */
  signedSecondsAgo?: number;
  /** With auth presigned: the URL's signature is altered after signing. */
  tampered?: boolean;
  /** With auth presigned (PUT): a body checksum signed into the URL, by algorithm (one), base64. */
  signedChecksum?: Partial<Record<'crc32' | 'crc32c' | 'crc64nvme' | 'sha1' | 'sha256', string>>;
  headers?: Record<string, string>;
  body?: string;
  credentials?: 'omit' | 'same-origin' | 'include';
  sendPreflight?: 'auto' | 'always';
  /** fetch() cache mode in the browser (default no-store). */
  cache?: 'no-store' | 'default' | 'no-cache' | 'reload' | 'force-cache';
  /** Seconds to wait before sending (a preflight cache entry expiring, say). */
  delaySeconds?: number;
  /** What in the page makes the request (default fetch). */
  initiator?: Initiator;
  /** Initiators img and video: the crossorigin attribute (default anonymous); none: no attribute, a no-cors request. */
  crossorigin?: 'anonymous' | 'none';
  expect?: {
    preflight?: HttpExpectation;
    response?: HttpExpectation;
    browser?: BrowserExpectation;
  };
  // --- multi-request flows (multipart uploads): harness/cases/captures.ts -------------------------------------
  /** Query parameters (`uploads: ''`, `partNumber: '1'`, `uploadId: '${uploadId}'`); signed into a presigned URL. */
  query?: Record<string, string>;
  /** A body of this many bytes (the letter `a` repeated), instead of `body`: a 5 MiB part without writing it out. */
  bodyBytes?: number;
  /** Values this request's response hands to later requests, by name, used there as `${name}`. */
  capture?: Record<string, Capture>;
}

/** Where a captured value is read: a response header (lower case), or the text of an XML element of the body. */
export type Capture = { header: string } | { xml: string };

export interface PolicyRejection {
  s3?: 'MalformedXML' | 'InvalidRequest' | 'InvalidArgument';
  rest?: number;
  assumed?: string;
}

export interface SeedObject {
  key: string;
  body?: string;
  /** A file whose bytes are the body, relative to the case file (the decodable files of cases/assets/). */
  bodyFile?: string;
  contentType?: string;
  /** bodyFile's bytes, read by the loader. */
  bytes?: Uint8Array;
}

export type Step =
  /** Put the policy on the bucket (null: delete it) and wait until it is in effect. */
  | {
      kind: 'apply';
      policy: CorsPolicy | null;
      format?: PolicyFormat;
      /** R2 must refuse this policy with these errors (the policy is then sent as written, invalid on purpose). */
      rejected?: PolicyRejection;
      path: DocPath;
    }
  | { kind: 'request'; request: CaseRequest; path: DocPath }
  /** Purge the custom domain's cache: everything, or these keys. */
  | { kind: 'purge'; everything: boolean; keys: string[]; path: DocPath };

export interface LoadedCase {
  /** The file, relative to the working directory, with forward slashes. */
  file: string;
  id: string;
  title: string;
  description?: string;
  source: string[];
  objects: SeedObject[];
  steps: Step[];
  /** Where a path of the case file stands in it (the nearest existing node when the path is not there). */
  locate(path: DocPath): Position;
}
