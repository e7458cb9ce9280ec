/**
 * Every choice the evaluator makes where R2's behaviour is not documented ([open] in
 * shared/reference/r2-cors.md), in one place. The default takes AWS S3's behaviour (shared/reference/s3-cors.md),
 * which R2's S3 API was built to mimic. A live run that observes R2 doing otherwise flips a field here; the
 * matching logic in evaluate.ts never changes for it.
 *
 * Each field's `why` text is shown wherever an expectation rests on the choice (explain, reports).
 */
import type { RejectionKind } from '../policy/validate.ts';

export interface Rejection {
  status: number;
  /** The S3 error code of the XML body, on the S3 API. */
  code: string;
  message: string;
}

export interface CorsProfile {
  name: string;
  /** Allow-Origin for a rule whose origin is the bare `*`: `*` itself, or the request's origin echoed. */
  wildcardAllowOrigin: 'star' | 'echo';
  /** Send `Access-Control-Allow-Credentials: true`: whenever the origin is echoed, or never. */
  allowCredentials: 'when-echoed' | 'never';
  /** Allow-Methods: all of the rule's methods, or only the one requested. */
  allowMethods: 'rule' | 'requested';
  /** Allow-Headers on a preflight: the requested names echoed (lower-cased, request order), or the rule's list. */
  allowHeaders: 'echo-requested' | 'rule';
  /** Separator between list values in Allow-Methods, Allow-Headers and Expose-Headers. */
  listSeparator: string;
  /** Whether Expose-Headers and Max-Age are also sent on the preflight / on actual responses. */
  exposeOnPreflight: boolean;
  maxAgeOnActual: boolean;
  /** `Vary` value on responses that matched a rule; undefined: none. */
  varyOnMatch: string | undefined;
  /** Whether matched rule choice is the first rule that matches (AWS) — the only choice implemented. */
  ruleChoice: 'first-match';
  /** Status of a preflight that matched a rule. */
  matchedPreflightStatus: number;
  /** Preflight that matches no rule. */
  unmatchedPreflight: Rejection;
  /** Preflight on a bucket with no policy. */
  noPolicyPreflight: Rejection;
  /** OPTIONS without Origin. [doc] on the public endpoints since 2024-02-20: 400. */
  preflightWithoutOrigin: Rejection;
  /** OPTIONS with Origin but no Access-Control-Request-Method. */
  preflightWithoutMethod: Rejection;
  /**
   * Whether error responses (4xx/5xx) carry the CORS headers of the rule the request matches, per surface: the
   * S3 API, and the public entrypoints (r2.dev and custom domains, one service).
   */
  corsOnErrors: { s3: boolean; public: boolean };
  /** Whether a 304 Not Modified carries the CORS headers of the rule the request matches. */
  corsOnNotModified: boolean;
  /**
   * `AllowedHeaders` entries with a `*` inside (`x-amz-*`): a wildcard matching any run of characters, as on
   * AWS, or only the bare `*` is a wildcard and any other entry is a literal name.
   */
  headerPatterns: 'wildcard-anywhere' | 'bare-star-only';
  /**
   * A preflight (OPTIONS) to a presigned URL on the S3 API: its query signature checked with the method of
   * Access-Control-Request-Method in place of OPTIONS (expired and tampered URLs fail there), or not checked.
   */
  presignedPreflight: 'verify-with-requested-method' | 'not-checked';
  /** Whether a preflight refused for its presigned URL still carries the CORS headers of the matching rule. */
  corsOnPresignedPreflightRefusal: boolean;
  /** A body whose `x-amz-checksum-*` or `Content-MD5` does not match it (PutObject, UploadPart). */
  checksumMismatch: { status: number; code: string };
  /** Checksum algorithms an UploadPart may not carry (answered 501 NotImplemented whatever the value). */
  partChecksumsNotImplemented: string[];
  /** A `Range` no byte of the object satisfies, on the S3 API (the public entrypoints answer 416 in HTML). */
  unsatisfiableRange: Rejection;
  /**
   * How a policy with a header name that is not an HTTP token (AllowedHeaders, ExposeHeaders) is refused:
   * `malformed` (S3 MalformedXML) or `invalid` (S3 InvalidRequest); REST answers 10040 either way.
   */
  headerNameNotToken: RejectionKind;
  /**
   * Each [open] choice above in one sentence, by field name. Unless it says otherwise, the choice is AWS S3's
   * behaviour (shared/reference/s3-cors.md), taken because R2 does not document its own.
   */
  why: Partial<Record<keyof CorsProfile, string>>;
}

export const R2_PROFILE: CorsProfile = {
  name: 'r2-assumed-aws',
  wildcardAllowOrigin: 'star',
  allowCredentials: 'when-echoed',
  allowMethods: 'rule',
  allowHeaders: 'echo-requested',
  listSeparator: ', ',
  exposeOnPreflight: true,
  maxAgeOnActual: true,
  varyOnMatch: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
  ruleChoice: 'first-match',
  matchedPreflightStatus: 200,
  unmatchedPreflight: {
    status: 403,
    code: 'AccessForbidden',
    message:
      'CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, ' +
      'request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted ' +
      "by the resource's CORS spec.",
  },
  noPolicyPreflight: {
    status: 403,
    code: 'AccessForbidden',
    message: 'CORSResponse: CORS is not enabled for this bucket.',
  },
  preflightWithoutOrigin: {
    status: 400,
    code: 'BadRequest',
    message: 'Insufficient information. Origin request header needed.',
  },
  preflightWithoutMethod: {
    status: 400,
    code: 'BadRequest',
    message: 'Invalid Access-Control-Request-Method: null',
  },
  corsOnErrors: { s3: false, public: true },
  corsOnNotModified: true,
  headerPatterns: 'wildcard-anywhere',
  presignedPreflight: 'verify-with-requested-method',
  corsOnPresignedPreflightRefusal: false,
  checksumMismatch: { status: 400, code: 'BadDigest' },
  partChecksumsNotImplemented: ['sha1', 'sha256'],
  unsatisfiableRange: { status: 416, code: 'InvalidRange', message: 'The requested range is not satisfiable' },
  headerNameNotToken: 'malformed',
  why: {
    wildcardAllowOrigin: "a '*' rule answers Access-Control-Allow-Origin: *",
    allowCredentials: 'Access-Control-Allow-Credentials: true whenever the origin is echoed',
    allowMethods: "Access-Control-Allow-Methods lists all of the rule's methods",
    allowHeaders: 'Access-Control-Allow-Headers echoes the requested names, lower-cased, in order',
    listSeparator: 'list values joined by ", "',
    exposeOnPreflight: 'Expose-Headers is sent on the preflight too',
    maxAgeOnActual: 'Max-Age is sent on actual responses too',
    varyOnMatch: 'Vary names Origin and the preflight headers, on matched responses only',
    ruleChoice: 'R2 consults later rules when earlier ones do not match [seen]; first match wins as on AWS [open]',
    matchedPreflightStatus: 'a matched preflight answers 200',
    unmatchedPreflight: 'an unmatched preflight answers 403 AccessForbidden',
    noPolicyPreflight: 'a preflight on a bucket without policy answers 403',
    preflightWithoutMethod: 'a preflight without Access-Control-Request-Method answers 400',
    corsOnErrors:
      'S3 API errors carry no CORS headers: uploads R2 refuses reach browsers as network errors, never as a ' +
      'readable status [seen: crafter-station/petdex#465 and many 2025–2026 reports]; errors of the public ' +
      'entrypoints carry them when a rule matches, as on AWS [open]',
    corsOnNotModified:
      'a 304 carries the CORS headers of the matching rule, like the 200 it stands for (RFC 9110 §15.4.5; AWS)',
    headerPatterns:
      "an AllowedHeaders entry with '*' inside (x-amz-*) matches any run of characters, as on AWS; R2 documents " +
      "only the bare '*' [open]",
    presignedPreflight:
      'a preflight to a presigned URL is checked against its query signature with Access-Control-Request-Method ' +
      'as the method [seen: cloudflare-docs#6003, Cloudflare staff]; signed headers other than host cannot be ' +
      'checked on a preflight, which carries none of them, so such a signature is not compared [open]',
    corsOnPresignedPreflightRefusal:
      'an expired or tampered presigned URL fails its preflight with the S3 error (403 ExpiredRequest, 403 ' +
      'SignatureDoesNotMatch) and no CORS headers, like the S3 API errors it is [open]',
    checksumMismatch:
      'a body that does not match its x-amz-checksum-* answers 400 BadDigest, as on AWS and as probed on live ' +
      'R2 (Alos-no/Cloudflare.NET#43, 2026-08); InvalidDigest in some reports came from other S3 servers [seen]',
    partChecksumsNotImplemented:
      'an UploadPart with a SHA-1 or SHA-256 checksum answers 501 NotImplemented (Alos-no/Cloudflare.NET#43) [seen]',
    unsatisfiableRange: 'a Range beyond the object answers 416 InvalidRange with Content-Range: bytes */<size>',
    headerNameNotToken:
      'a header name that is not an HTTP token is refused like a bad origin, 400 MalformedXML on the S3 API ' +
      '(R2 answers bad origins so [seen]; how it refuses such a header name is not public)',
  },
};
