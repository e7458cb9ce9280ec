/** HTTP plumbing shared by the emulator's surfaces: bounded bodies, responses, error documents. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { XMLBuilder } from 'fast-xml-parser';

export type HeaderList = [string, string][];

export class BodyTooLarge extends Error {}

/** Reads a request body, refusing (and draining no further than) `limit` bytes. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLarge());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('aborted', () => reject(new Error('request aborted')));
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
  res.writeHead(reply.status, headers.flat());
  res.end(req.method === 'HEAD' ? undefined : body);
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
  const out: Record<string, string> = {};
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
