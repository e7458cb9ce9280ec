/**
 * The browser client: a page at the case's exact origin calls `fetch` the way an app does, and the check records
 * what the browser allowed, what JavaScript could read, and — from Chromium's DevTools protocol — why it blocked.
 * No `route` is ever registered (Playwright would then answer preflights itself): pages reach their origin and
 * R2 through the proxy (harness/browsers/proxy.ts).
 *
 * A session is one browser context with one page per origin, navigated once and kept: cases that share the
 * context share its pages (harness/browsers/isolation.ts says when that is safe). Everything a check learns is
 * keyed by its URL, so checks of different cases may run side by side.
 */
import { readFileSync } from 'node:fs';
import type { BrowserContext, CDPSession, Frame, Page } from '@playwright/test';
import { timed } from '../browsers/timings.ts';

/**
 * Where a page of origin `null` lives: a sandboxed iframe (`sandbox="allow-scripts"`, no allow-same-origin) in a
 * page of this origin. Its document has an opaque origin, so its requests carry `Origin: null`
 * (https://html.spec.whatwg.org/multipage/browsers.html#sandboxed-origin-browsing-context-flag).
 */
export const OPAQUE_PARENT = 'https://sandbox-parent.example';

/** The page-side code of markup requests (an element inserted into the page), evaluated there as text. */
const MARKUP_SCRIPT = readFileSync(new URL('./markup.page.js', import.meta.url), 'utf8');

/** How long an element may take to load or fail before the check reports it as failed. */
const MARKUP_TIMEOUT_MS = 15_000;

export interface MarkupLoad {
  url: string;
  initiator: 'font' | 'img' | 'video' | 'script';
  /** img and video: the crossorigin attribute; absent: none (a no-cors request). */
  crossorigin?: 'anonymous';
}

export interface PageRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  credentials: 'omit' | 'same-origin' | 'include';
  /** fetch()'s cache mode. Chromium bypasses its preflight cache for no-store and no-cache. */
  cache: 'default' | 'no-store' | 'reload' | 'no-cache' | 'force-cache';
  /** Return the body as text (it is read either way). */
  wantBody?: boolean;
  /** Instead of body: this many bytes (the letter a), made in the page as an app's file slice would be. */
  bodyBytes?: number;
}

export interface BrowserObservation {
  outcome: 'allowed' | 'blocked';
  status?: number;
  /** Response header names JavaScript could read (lower case). */
  readable: string[];
  /** Their values, as JavaScript read them (for a case's captures). */
  headers?: Record<string, string>;
  /** The body as text, when the request asked for it. */
  body?: string;
  /** The TypeError text of a blocked fetch. */
  error?: string;
  /** Chromium only: `corsErrorStatus.corsError` of the failed request. */
  reason?: string;
  /** Chromium only: whether DevTools saw a preflight (on live targets, where no request log exists). */
  preflightSeenByDevtools?: boolean;
  /**
   * Markup img and video: whether the page could read the pixels drawn from it; 'no frame' when a video never
   * had a frame to draw within the time limit (harness/clients/markup.page.js).
   */
  canvas?: 'readable' | 'tainted' | 'no frame';
}

/** How long to wait for DevTools to report a failed request after fetch() rejected: it usually already has. */
const FAILURE_REPORT_MS = 2000;

/** Chromium's DevTools view of one page's requests, by URL: preflights seen, and how each request failed. */
class DevtoolsWatch {
  private urls = new Map<string, string>();
  private preflightIds = new Set<string>();
  private preflights = new Map<string, number>();
  private failures = new Map<string, { count: number; reason?: string }>();
  private waiters = new Map<string, (() => void)[]>();

  constructor(cdp: CDPSession) {
    cdp.on('Network.requestWillBeSent', (event) => {
      this.urls.set(event.requestId, event.request.url);
      if (event.initiator.type === 'preflight') {
        this.preflightIds.add(event.requestId);
        this.preflights.set(event.request.url, (this.preflights.get(event.request.url) ?? 0) + 1);
      }
    });
    cdp.on('Network.loadingFailed', (event) => {
      const url = this.urls.get(event.requestId);
      // The request the page made, not its preflight: that is where Chromium puts the CORS error.
      if (url === undefined || this.preflightIds.has(event.requestId)) return;
      const reason = (event as { corsErrorStatus?: { corsError: string } }).corsErrorStatus?.corsError;
      const seen = this.failures.get(url);
      this.failures.set(url, { count: (seen?.count ?? 0) + 1, reason });
      for (const wake of this.waiters.get(url) ?? []) wake();
      this.waiters.delete(url);
    });
  }

  mark(url: string) {
    return { preflights: this.preflights.get(url) ?? 0, failures: this.failures.get(url)?.count ?? 0 };
  }

  preflightSince(url: string, mark: { preflights: number }): boolean {
    return (this.preflights.get(url) ?? 0) > mark.preflights;
  }

  /** The blocking reason of the page's request to url since the mark, once DevTools has reported its failure. */
  async failureSince(url: string, mark: { failures: number }): Promise<string | undefined> {
    if ((this.failures.get(url)?.count ?? 0) <= mark.failures) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, FAILURE_REPORT_MS);
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        this.waiters.set(url, [...(this.waiters.get(url) ?? []), wake]);
      });
    }
    return (this.failures.get(url)?.count ?? 0) > mark.failures ? this.failures.get(url)?.reason : undefined;
  }
}

interface OriginPage {
  page: Page;
  /** Where the page's code runs: the main frame, or for origin null the sandboxed iframe. */
  frame: Frame;
  devtools?: DevtoolsWatch;
}

export class BrowserSession {
  private pages = new Map<string, Promise<OriginPage>>();

  constructor(
    readonly context: BrowserContext,
    private readonly chromium: boolean,
  ) {}

  /** The page at this origin: opened and navigated on first use, then kept. */
  private page(origin: string): Promise<OriginPage> {
    let page = this.pages.get(origin);
    if (!page) {
      page = this.open(origin);
      this.pages.set(origin, page);
      // A failed navigation is not kept: the next check tries again (and fails with its own error).
      page.catch(() => this.pages.delete(origin));
    }
    return page;
  }

  private async open(origin: string): Promise<OriginPage> {
    return timed('navigation', async () => {
      const page = await this.context.newPage();
      let devtools: DevtoolsWatch | undefined;
      if (this.chromium) {
        const cdp = await this.context.newCDPSession(page);
        devtools = new DevtoolsWatch(cdp);
        await cdp.send('Network.enable');
      }
      await page.goto(`${origin === 'null' ? OPAQUE_PARENT : origin}/`);
      const frame = origin === 'null' ? await sandboxedFrame(page) : page.mainFrame();
      return { page, frame, devtools };
    });
  }

  async fetch(origin: string, request: PageRequest): Promise<BrowserObservation> {
    const { frame, devtools } = await this.page(origin);
    const mark = devtools?.mark(request.url);
    const result = await timed('fetch', () =>
      frame.evaluate(async (r) => {
        try {
          // This runs in the page: the browser's fetch, whose options Node's types do not all know.
          const init: Record<string, unknown> = {
            method: r.method,
            headers: r.headers,
            // Bytes, not a string: fetch gives a string body a Content-Type of its own, a file slice none.
            body: r.bodyBytes === undefined ? r.body : new Uint8Array(r.bodyBytes).fill(0x61),
            credentials: r.credentials,
            cache: r.cache,
            mode: 'cors',
          };
          const response = await fetch(r.url, init as RequestInit);
          const text = await response.text();
          return {
            ok: true as const,
            status: response.status,
            readable: [...response.headers.keys()],
            headers: Object.fromEntries(response.headers.entries()),
            body: r.wantBody ? text : undefined,
          };
        } catch (error) {
          return { ok: false as const, error: String(error) };
        }
      }, request),
    );
    const preflightSeenByDevtools = devtools && mark ? devtools.preflightSince(request.url, mark) : undefined;
    if (result.ok) {
      return {
        outcome: 'allowed',
        status: result.status,
        readable: result.readable,
        headers: result.headers,
        body: result.body,
        preflightSeenByDevtools,
      };
    }
    // Chromium's loadingFailed can arrive just after fetch() rejects: wait for it, not for a fixed time.
    const reason = devtools && mark ? await devtools.failureSince(request.url, mark) : undefined;
    return { outcome: 'blocked', readable: [], error: result.error, reason, preflightSeenByDevtools };
  }

  /**
   * Markup makes the request: the page inserts an element (an @font-face rule, an <img>, a <video>, a module
   * <script>) and reports whether it loaded, and for an image or a video whether a canvas it was drawn to stays
   * readable (harness/clients/markup.page.js). The page learns nothing else: no status, no headers.
   */
  async load(origin: string, request: MarkupLoad): Promise<BrowserObservation> {
    const { frame, devtools } = await this.page(origin);
    const mark = devtools?.mark(request.url);
    const spec = { ...request, timeoutMs: MARKUP_TIMEOUT_MS };
    const result = (await timed('fetch', () =>
      frame.evaluate(`${MARKUP_SCRIPT}\nloadByMarkup(${JSON.stringify(spec)})`),
    )) as { loaded: boolean; error?: string; canvas?: BrowserObservation['canvas'] };
    const preflightSeenByDevtools = devtools && mark ? devtools.preflightSince(request.url, mark) : undefined;
    if (result.loaded) return { outcome: 'allowed', readable: [], canvas: result.canvas, preflightSeenByDevtools };
    const reason = devtools && mark ? await devtools.failureSince(request.url, mark) : undefined;
    return { outcome: 'blocked', readable: [], error: result.error, reason, preflightSeenByDevtools };
  }

  /** The cookies the context holds, by name and domain (never their values). */
  async cookies(): Promise<string[]> {
    return (await this.context.cookies()).map((c) => `${c.name} for ${c.domain}`);
  }

  async close() {
    await this.context.close();
  }
}

/** A sandboxed iframe (scripts allowed, origin opaque) added to the page, and its frame once loaded. */
async function sandboxedFrame(page: Page): Promise<Frame> {
  // Page-side code as text: the harness is type-checked without the DOM's types.
  await page.evaluate(`new Promise((resolve) => {
    const iframe = document.createElement('iframe');
    iframe.setAttribute('sandbox', 'allow-scripts');
    iframe.srcdoc = '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body></body></html>';
    iframe.addEventListener('load', resolve, { once: true });
    document.body.append(iframe);
  })`);
  const frame = await (await page.$('iframe'))?.contentFrame();
  if (!frame) throw new Error(`the sandboxed iframe of ${OPAQUE_PARENT} has no frame`);
  return frame;
}
