/**
 * The browsers' HTTP proxy: how a page gets to sit at an exact origin (`https://example.com`,
 * `http://localhost:3000`) and how it reaches R2's host names, without any DNS or `page.route` (which would
 * make Playwright answer CORS preflights itself). Every browser context is given this proxy.
 *
 * - `CONNECT host:port` (https) and absolute-form requests (http) for a test origin go to the origin server;
 * - R2's host names go to the emulator's listeners, or, on a live run, straight through to R2;
 * - anything else is refused, so no test can reach a host it was not told about.
 * It listens on loopback only.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { matchesHost } from '../net/address-map.ts';
import { listenOnLoopback } from '../net/loopback.ts';

export interface ProxyRoute {
  /** A host name, or `*.suffix`. */
  host: string;
  /** Only this port, when given. */
  port?: number;
  /** Where to connect; `direct` connects to the host itself (live R2). */
  to: { host: string; port: number } | 'direct';
}

export interface RunningProxy {
  /** `http://127.0.0.1:<port>`, for a browser context's `proxy.server`. */
  server: string;
  /** Hosts refused so far (for diagnosing a case whose origin the proxy was not told about). */
  refused: string[];
  close(): Promise<void>;
}

function routeFor(routes: ProxyRoute[], host: string, port: number) {
  return routes.find((r) => matchesHost(r.host, host.toLowerCase()) && (r.port === undefined || r.port === port));
}

function splitHostPort(authority: string, defaultPort: number): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(authority);
  return { host: m?.[1] ?? authority, port: m?.[2] ? Number(m[2]) : defaultPort };
}

export async function startProxy(routes: { https: ProxyRoute[]; http: ProxyRoute[] }): Promise<RunningProxy> {
  const refused: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    // Absolute-form request for an http:// origin.
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('the proxy takes absolute-form requests only');
      return;
    }
    const port = Number(url.port || 80);
    const route = routeFor(routes.http, url.hostname, port);
    if (!route) {
      refused.push(`${url.hostname}:${port}`);
      res
        .writeHead(403, { 'content-type': 'text/plain' })
        .end(`r2-cors proxy: ${url.hostname}:${port} is not a test host`);
      return;
    }
    const target = route.to === 'direct' ? { host: url.hostname, port } : route.to;
    const upstream = httpRequest(
      {
        host: target.host,
        port: target.port,
        method: req.method,
        path: `${url.pathname}${url.search}`,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const { host, port } = splitHostPort(req.url ?? '', 443);
    const route = routeFor(routes.https, host, port);
    if (!route) {
      refused.push(`${host}:${port}`);
      client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const target = route.to === 'direct' ? { host, port } : route.to;
    const upstream = connect(target.port, target.host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
  });
  const address = await listenOnLoopback(server);
  return {
    server: `http://${address}`,
    refused,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
