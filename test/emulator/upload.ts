/**
 * Streaming uploads for the emulator's tests: the body is written a chunk at a time and the writing stops as
 * soon as the server answers, so a test can tell whether the server answered before it had the whole body.
 */
import { request as httpsRequest } from 'node:https';

export interface StreamedUpload {
  status: number;
  body: string;
  /** Bytes written before the answer came. */
  sent: number;
  /** The answer came before the whole body was written. */
  answeredEarly: boolean;
}

export function streamUpload(
  url: string,
  options: { ca: string; headers?: Record<string, string>; total: number; chunked?: boolean },
): Promise<StreamedUpload> {
  const headers = { ...options.headers };
  if (!options.chunked) headers['content-length'] = String(options.total);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: 'PUT', headers, ca: options.ca });
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const answeredEarly = sent < options.total || !req.writableEnded;
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body, sent, answeredEarly });
        req.destroy();
      });
      res.on('error', reject);
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    const pump = () => {
      while (!answered && sent < options.total) {
        const piece = chunk.subarray(0, Math.min(chunk.length, options.total - sent));
        sent += piece.length;
        if (!req.write(piece)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end();
    };
    pump();
  });
}
