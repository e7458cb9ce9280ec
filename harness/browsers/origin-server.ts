/**
 * The pages' origin server: answers every origin a case names (any host, any port, http and https) with a
 * minimal page, so that a browser's page sits at exactly that origin. It is reached only through the proxy
 * (proxy.ts), which sends it every test origin; its TLS certificates come from the local CA.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type LocalCa, serverTlsOptions } from '../tls/local-ca.ts';

export interface OriginServer {
  http: { host: string; port: number };
  https: { host: string; port: number };
  close(): Promise<void>;
}

const PAGE =
  '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>r2-cors test origin</title></head><body></body></html>\n';

function answer(req: { url?: string }, res: import('node:http').ServerResponse) {
  // Only the page itself; anything else (a favicon) is not there, so nothing else is requested twice.
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/') {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(PAGE);
}

function listen(server: HttpServer | HttpsServer): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve({ host: '127.0.0.1', port: (server.address() as AddressInfo).port }));
  });
}

export async function startOriginServer(ca: LocalCa): Promise<OriginServer> {
  const plain = createHttpServer(answer);
  const secure = createHttpsServer(await serverTlsOptions(ca), answer);
  const http = await listen(plain);
  const https = await listen(secure);
  return {
    http,
    https,
    close: async () => {
      for (const server of [plain, secure]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}
