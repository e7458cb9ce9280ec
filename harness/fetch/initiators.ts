/**
 * What a browser puts on the wire when page markup, not `fetch()`, makes the request: the raw client sends the
 * same, so that the raw check and the browser check see one request. Every markup request is a GET whose headers
 * the page cannot set, and none is ever preflighted (no author header, a safelisted method).
 *
 * - font: CSS Fonts 4 fetches fonts in "cors" mode, from any origin: Origin is sent
 *   (https://drafts.csswg.org/css-fonts-4/#font-fetching-requirements).
 * - img, video: a "potentially CORS-enabled request"; with a crossorigin attribute its mode is "cors" (Origin
 *   sent), without one "no-cors" (no Origin on a GET; the response is opaque and taints a canvas)
 *   (https://html.spec.whatwg.org/multipage/urls-and-fetching.html#create-a-potential-cors-request).
 * - video also asks for a byte range: HTML lets the user agent fetch media in ranges, and Chromium and Firefox
 *   both begin with `Range: bytes=0-` (https://html.spec.whatwg.org/multipage/media.html#concept-media-load-resource).
 * - script (module): always "cors" (https://html.spec.whatwg.org/multipage/webappapis.html#fetch-a-single-module-script).
 */
import type { CaseRequest, Initiator } from '../cases/model.ts';

export interface MarkupRequest {
  /** Whether the request is a CORS request (Origin sent, the response CORS-checked) or no-cors. */
  cors: boolean;
  /** Headers the browser itself adds that matter here. */
  headers: Record<string, string>;
}

/** The first range a media element asks for. */
export const MEDIA_RANGE = 'bytes=0-';

export function isMarkup(initiator: Initiator | undefined): initiator is Exclude<Initiator, 'fetch'> {
  return initiator !== undefined && initiator !== 'fetch';
}

/** The wire request of a markup initiator (undefined for fetch(), which the case's fields describe). */
export function markupRequest(r: Pick<CaseRequest, 'initiator' | 'crossorigin'>): MarkupRequest | undefined {
  if (!isMarkup(r.initiator)) return undefined;
  const attribute = r.initiator === 'img' || r.initiator === 'video';
  const cors = !attribute || (r.crossorigin ?? 'anonymous') !== 'none';
  return { cors, headers: r.initiator === 'video' ? { range: MEDIA_RANGE } : {} };
}
