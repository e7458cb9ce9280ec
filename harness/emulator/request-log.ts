/**
 * Everything the emulator received, in order: how a browser check proves that a preflight was (or was not)
 * sent. Queried over the wire (GET /__emulator/requests on the API endpoint). Query strings are not kept:
 * a presigned URL's query is a credential.
 */
export interface LogEntry {
  seq: number;
  at: string;
  surface: 's3' | 'api' | 'public' | 'custom';
  method: string;
  host: string;
  /** Path without the query string. */
  path: string;
  origin?: string;
  accessControlRequestMethod?: string;
  accessControlRequestHeaders?: string;
  status: number;
  /** Tells browsers apart from each other and from raw clients (which send none). */
  userAgent?: string;
  /** Custom domains: whether the answer came from the cache. */
  cache?: 'HIT' | 'MISS';
}

/** A ring buffer: memory stays bounded however long the emulator runs. */
export class RequestLog {
  private entries: LogEntry[] = [];
  private next = 1;

  constructor(private readonly capacity = 10_000) {}

  add(entry: Omit<LogEntry, 'seq' | 'at'>): void {
    this.entries.push({ seq: this.next++, at: new Date().toISOString(), ...entry });
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
  }

  /** Entries after `since` (a seq), oldest first, and the seq to ask from next time. */
  since(since = 0): { entries: LogEntry[]; next: number } {
    return { entries: this.entries.filter((e) => e.seq > since), next: this.next - 1 };
  }
}
