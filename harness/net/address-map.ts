/**
 * An undici dispatcher that connects some host names to other addresses, keeping the URL, the Host header
 * and TLS server name as they are: what DNS would do, and what the browsers' proxy does for them. With it the
 * same URLs serve a live bucket (`https://pub-….r2.dev/key`) and the emulator (mapped to its loopback port).
 */
import { isIP, connect as netConnect } from 'node:net';
import { createSecureContext, connect as tlsConnect } from 'node:tls';
import { Agent, type buildConnector } from 'undici';

export interface AddressRule {
  /** A host name, or a pattern with one leading `*.` (any subdomain). */
  host: string;
  /** `127.0.0.1:port` */
  address: string;
}

export function matchesHost(pattern: string, host: string): boolean {
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return pattern === host;
}

/** `127.0.0.1:8443` → host and port. */
export function parseAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

/** Where a host name connects to, or undefined to use it as it is. */
export function mappedAddress(rules: AddressRule[], host: string): { host: string; port: number } | undefined {
  const rule = rules.find((r) => matchesHost(r.host, host.toLowerCase()));
  return rule ? parseAddress(rule.address) : undefined;
}

export function addressMapAgent(options: { rules: AddressRule[]; ca?: string | string[] }): Agent {
  // One TLS context for every connection: given `ca` itself, each connection would parse all the CAs again
  // (the system's ~150 plus the emulator's), a new context per connection, milliseconds of CPU each.
  const secureContext = options.ca ? createSecureContext({ ca: options.ca }) : undefined;
  const connect: buildConnector.connector = (opts, callback) => {
    const target = mappedAddress(options.rules, opts.hostname);
    const secure = opts.protocol !== 'http:';
    const host = target?.host ?? opts.hostname;
    const port = target?.port ?? Number(opts.port || (secure ? 443 : 80));
    const socket = secure
      ? tlsConnect({
          host,
          port,
          // No SNI for an address (RFC 6066); the server's loopback certificate covers it.
          servername: isIP(opts.hostname) ? undefined : (opts.servername ?? opts.hostname),
          secureContext,
          ALPNProtocols: ['http/1.1'],
        })
      : netConnect({ host, port });
    let settled = false;
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      if (settled) return;
      settled = true;
      callback(null, socket);
    });
    socket.once('error', (error) => {
      if (settled) return;
      settled = true;
      callback(error, null);
    });
  };
  return new Agent({ connect });
}
