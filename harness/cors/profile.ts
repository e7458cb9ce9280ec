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
  /** Whether error responses (4xx/5xx) of the S3 API carry CORS headers. */
  corsOnErrors: boolean;
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
  corsOnErrors: true,
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
    corsOnErrors: 'error responses carry CORS headers when the request matches a rule',
  },
};

/**
 * [open] choices of R2's policy validation (harness/policy/validate.ts), kept apart from the evaluator's.
 * headerNameNotToken: how a policy whose AllowedHeaders/ExposeHeaders holds a name that is not an HTTP token is
 * refused: `malformed` (S3 MalformedXML) or `invalid` (S3 InvalidRequest); REST answers 10040 either way.
 */
export const R2_POLICY_VALIDATION: { headerNameNotToken: RejectionKind; why: { headerNameNotToken: string } } = {
  headerNameNotToken: 'malformed',
  why: {
    headerNameNotToken:
      'a header name that is not an HTTP token is refused like a bad origin, 400 MalformedXML on the S3 API ' +
      '(R2 answers bad origins so [seen]; how it refuses such a header name is not public)',
  },
};
