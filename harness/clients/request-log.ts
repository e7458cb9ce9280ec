/**
 * The emulator's request log, read over the wire (GET R2_EMULATOR_LOG_URL, with the API token): how a browser
 * check knows whether its preflight reached the server, or was answered from the browser's cache, and whether
 * a blocked request's actual request was ever sent.
 *
 * The emulator logs a request before it answers it, so once a page's fetch() has settled every request it made
 * is in the log: one read after the check, never a poll. A reader keeps a cursor (the newest seq it has seen),
 * so a check reads only what came after the previous read and needs no mark of its own beforehand.
 */
import { type Dispatcher, request } from 'undici';
import { timed } from '../browsers/timings.ts';
import type { LogEntry, LogPage } from '../wire/request-log.ts';

export class RequestLogClient {
  /** Every entry before it was read by an earlier call (or logged before the first mark). */
  private cursor?: number;

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly dispatcher: Dispatcher,
  ) {}

  /** The env of an emulator run, or undefined on a live target (no log there). */
  static fromEnv(dispatcher: Dispatcher, env: NodeJS.ProcessEnv = process.env): RequestLogClient | undefined {
    if (!env.R2_EMULATOR_LOG_URL || !env.CLOUDFLARE_API_TOKEN || env.CORS_TARGET === 'r2' || env.CORS_TARGET === 's3')
      return undefined;
    return new RequestLogClient(env.R2_EMULATOR_LOG_URL, env.CLOUDFLARE_API_TOKEN, dispatcher);
  }

  async since(seq: number): Promise<LogPage> {
    const read = () =>
      request(`${this.url}?since=${seq}`, {
        headers: { authorization: `Bearer ${this.token}` },
        dispatcher: this.dispatcher,
      });
    // A kept-alive connection the emulator closed while it sat idle resets on reuse (seen on a loaded machine);
    // the read is a GET, so it is sent once more on a fresh connection.
    const response = await read().catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET' && error.code !== 'UND_ERR_SOCKET') throw error;
      return read();
    });
    if (response.statusCode !== 200) throw new Error(`the emulator's request log answered ${response.statusCode}`);
    const page = (await response.body.json()) as LogPage;
    this.cursor = Math.max(this.cursor ?? 0, page.next);
    return page;
  }

  /** The seq to read from after now. */
  async mark(): Promise<number> {
    return (await this.since(Number.MAX_SAFE_INTEGER)).next;
  }

  /**
   * Where a check about to send its requests reads from afterwards: the cursor of this reader, read once when
   * it has none yet. Entries after it may belong to other checks; callers pick theirs by host, path and client.
   */
  async start(): Promise<number> {
    return this.cursor ?? this.mark();
  }

  /** One read of everything logged after `from` (a value of start()), once the check's requests settled. */
  async after(from: number): Promise<LogEntry[]> {
    return (await timed('log', () => this.since(from))).entries;
  }
}
