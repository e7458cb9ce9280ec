/**
 * HTTP plumbing shared by the emulator's surfaces: the guard every request goes through, bounded bodies,
 * responses, error documents.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { XMLBuilder } from 'fast-xml-parser';

export type HeaderList = [string, string][];

export class BodyTooLarge extends Error {}
/** The client went away before it sent the whole body: nobody is left to answer. */
export class RequestAborted extends Error {}

/**
 * Reads a request body, refusing one over `limit` bytes: a declared Content-Length at once, a chunked body as
 * soon as it passes the limit. What arrives after a refusal is discarded, not kept, and the connection stays up
 * so that the client reads the 413 (`send` then closes it).
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLarge());
      return;
    }
    let chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > limit) {
        refused = true;
        chunks = [];
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!refused) resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
    req.on('aborted', () => reject(new RequestAborted('request aborted')));
  });
}

export interface Reply {
  status: number;
  headers: HeaderList;
  body?: Buffer | string;
}

export function send(req: IncomingMessage, res: ServerResponse, reply: Reply) {
  if (res.headersSent || res.destroyed) return;
  const body = reply.body === undefined ? Buffer.alloc(0) : Buffer.from(reply.body);
  const headers: HeaderList = [...reply.headers];
  if (!headers.some(([n]) => n.toLowerCase() === 'content-length'))
    headers.push(['Content-Length', String(body.length)]);
  // Answered before its body was read (refused, or too large): the rest of the body is not worth reading.
  if (unreadBody(req)) headers.push(['Connection', 'close']);
  res.writeHead(reply.status, headers.flat());
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The request has a body (RFC 9112 §6.3: Transfer-Encoding or a non-zero Content-Length) not read to its end. */
function unreadBody(req: IncomingMessage): boolean {
  const declared = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  return declared && !req.readableEnded;
}

const xml = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: false });

/** An XML document with declaration, as S3 answers. */
export function xmlDocument(root: string, content: unknown): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${xml.build({ [root]: content })}`;
}

/** S3's error document. R2's `<Error>` carries no xmlns (workers-sdk). */
export function s3Error(status: number, code: string, message: string, extra: HeaderList = []): Reply {
  return {
    status,
    headers: [['Content-Type', 'application/xml'], ...extra],
    body: xmlDocument('Error', { Code: code, Message: message }),
  };
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** The public entrypoints (r2.dev, custom domains) answer errors with HTML pages [doc]. */
export function htmlError(status: number, title: string, text: string, extra: HeaderList = []): Reply {
  const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
  return {
    status,
    headers: [['Content-Type', 'text/html; charset=utf-8'], ...extra],
    body: `<!DOCTYPE html>\n<html><head><title>${escapeHtml(title)}</title></head><body><h1>${status} ${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p></body></html>\n`,
  };
}

/** Lower-case header name → value, repeated headers joined with ",". */
export function headerMap(req: IncomingMessage): Record<string, string> {
  // No prototype: a header named `constructor` or `__proto__` is a header like any other.
  const out: Record<string, string> = Object.create(null);
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    const value = req.rawHeaders[i + 1].trim();
    out[name] = out[name] === undefined ? value : `${out[name]},${value}`;
  }
  return out;
}

/** The host name a request was addressed to, without port. */
export function hostName(req: IncomingMessage): string {
  const host = (req.headers.host ?? '').toLowerCase();
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  return host.replace(/:\d+$/, '');
}

// --- the guard ------------------------------------------------------------------------------------------------

export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** How a surface words an error that the plumbing answers for it (XML on S3, JSON on REST, HTML on public hosts). */
export type ErrorFormat = (status: 400 | 500, message: string) => Reply;

/**
 * A bug in a handler must not take the emulator down: a throw, synchronous or not, becomes a 500 for that
 * request and a line on stderr (path without query: a presigned query is a credential). Requests HTTP itself
 * calls malformed are refused before any handler sees them.
 */
export function guarded(surface: string, handler: Handler, errors: ErrorFormat): Handler {
  return async (req, res) => {
    try {
      const problem = malformedRequest(req);
      if (problem) send(req, res, errors(400, problem));
      else await handler(req, res);
    } catch (error) {
      logInternalError(surface, req, error);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      try {
        send(req, res, errors(500, 'We encountered an internal error. Please try again.'));
      } catch {
        res.destroy();
      }
    }
  };
}

/** RFC 9112 §3.2: a request with more than one Host header field is answered 400. */
function malformedRequest(req: IncomingMessage): string | undefined {
  let hosts = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i].toLowerCase() === 'host') hosts++;
  if (hosts > 1) return 'A request carries exactly one Host header.';
  return undefined;
}

/** One line per emulator bug, naming the surface, method and path (never the query string or headers). */
export function logInternalError(surface: string, req: IncomingMessage, error: unknown) {
  const path = (req.url ?? '').split('?')[0];
  const why = error instanceof Error ? (error.stack ?? error.message) : String(error);
  console.error(`r2 emulator: ${surface} ${req.method} ${path}: internal error (answered 500): ${why}`);
}
