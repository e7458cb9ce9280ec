/**
 * The emulator's request log as it travels over the wire (GET /__emulator/requests on the API endpoint,
 * answered `{ entries, next }`). Shared by the emulator, which writes it, and the harness, which reads it over
 * HTTP: a description of the protocol, so neither side imports the other.
 */
export interface LogEntry {
  seq: number;
  at: string;
  surface: 's3' | 'api' | 'public' | 'custom';
  method: string;
  host: string;
  /** Path without the query string: a presigned URL's query is a credential. */
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

export interface LogPage {
  entries: LogEntry[];
  /** The seq to ask from next time. */
  next: number;
}
