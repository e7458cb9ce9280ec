/**
 * The browser client: a page at the case's exact origin calls `fetch` the way an app does, and the check records
 * what the browser allowed, what JavaScript could read, and — from Chromium's DevTools protocol — why it blocked.
 * No `route` is ever registered (Playwright would then answer preflights itself): pages reach their origin and
 * R2 through the proxy (harness/browsers/proxy.ts).
 */
import type { BrowserContext, CDPSession, Page } from '@playwright/test';

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
}

export interface BrowserObservation {
  outcome: 'allowed' | 'blocked';
  status?: number;
  /** Response header names JavaScript could read (lower case). */
  readable: string[];
  /** The body as text, when the request asked for it. */
  body?: string;
  /** The TypeError text of a blocked fetch. */
  error?: string;
  /** Chromium only: `corsErrorStatus.corsError` of the failed request. */
  reason?: string;
  /** Chromium only: whether DevTools saw a preflight (on live targets, where no request log exists). */
  preflightSeenByDevtools?: boolean;
}

/** A page per case context, kept at the right origin; Chromium also gets a DevTools session. */
export class CasePage {
  private page?: Page;
  private cdp?: CDPSession;
  private corsErrors: { url: string; reason: string }[] = [];
  private preflights: string[] = [];
  private urls = new Map<string, string>();

  constructor(
    private readonly context: BrowserContext,
    private readonly chromium: boolean,
  ) {}

  private async open(origin: string): Promise<Page> {
    if (!this.page) {
      this.page = await this.context.newPage();
      if (this.chromium) {
        this.cdp = await this.context.newCDPSession(this.page);
        await this.cdp.send('Network.enable');
        this.cdp.on('Network.loadingFailed', (event) => {
          const reason = (event as { corsErrorStatus?: { corsError: string } }).corsErrorStatus?.corsError;
          if (reason) this.corsErrors.push({ url: this.urls.get(event.requestId) ?? '', reason });
        });
        this.cdp.on('Network.requestWillBeSent', (event) => {
          this.urls.set(event.requestId, event.request.url);
          if (event.initiator.type === 'preflight') this.preflights.push(event.request.url);
        });
      }
    }
    if (this.page.url() === 'about:blank' || new URL(this.page.url()).origin !== origin)
      await this.page.goto(`${origin}/`);
    return this.page;
  }

  async fetch(origin: string, request: PageRequest): Promise<BrowserObservation> {
    const page = await this.open(origin);
    this.corsErrors = [];
    this.preflights = [];
    const result = await page.evaluate(async (r) => {
      try {
        // This runs in the page: the browser's fetch, whose options Node's types do not all know.
        const init: Record<string, unknown> = {
          method: r.method,
          headers: r.headers,
          body: r.body,
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
          body: r.wantBody ? text : undefined,
        };
      } catch (error) {
        return { ok: false as const, error: String(error) };
      }
    }, request);
    if (result.ok) {
      return {
        outcome: 'allowed',
        status: result.status,
        readable: result.readable,
        body: result.body,
        preflightSeenByDevtools: this.seen(),
      };
    }
    let reason: string | undefined;
    if (this.chromium) {
      // loadingFailed can arrive just after fetch() rejects.
      for (let i = 0; i < 20 && this.corsErrors.length === 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 25));
      reason = this.corsErrors.at(-1)?.reason;
    }
    return { outcome: 'blocked', readable: [], error: result.error, reason, preflightSeenByDevtools: this.seen() };
  }

  private seen(): boolean | undefined {
    return this.chromium ? this.preflights.length > 0 : undefined;
  }
}
