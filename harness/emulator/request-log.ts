/**
 * Everything the emulator received, in order: how a browser check proves that a preflight was (or was not)
 * sent. Queried over the wire (GET /__emulator/requests on the API endpoint; the format is harness/wire/).
 */
import type { LogEntry, LogPage } from '../wire/request-log.ts';

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
  since(since = 0): LogPage {
    return { entries: this.entries.filter((e) => e.seq > since), next: this.next - 1 };
  }
}
