/**
 * The emulator's request log, read over the wire (GET R2_EMULATOR_LOG_URL, with the API token): how a browser
 * check knows whether its preflight reached the server, or was answered from the browser's cache, and whether
 * a blocked request's actual request was ever sent.
 */
import { type Dispatcher, request } from 'undici';
import type { LogPage } from '../wire/request-log.ts';

export class RequestLogClient {
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
    const response = await request(`${this.url}?since=${seq}`, {
      headers: { authorization: `Bearer ${this.token}` },
      dispatcher: this.dispatcher,
    });
    if (response.statusCode !== 200) throw new Error(`the emulator's request log answered ${response.statusCode}`);
    return (await response.body.json()) as LogPage;
  }

  /** The seq to read from after now. */
  async mark(): Promise<number> {
    return (await this.since(Number.MAX_SAFE_INTEGER)).next;
  }
}
