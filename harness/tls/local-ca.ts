/**
 * The harness's local certificate authority. Every local TLS server (the emulator's endpoints, later the
 * browsers' origin server) presents a certificate it issued; clients trust the CA file (NODE_EXTRA_CA_CERTS,
 * undici's `ca`) instead of switching verification off. Made on first use and kept, so a CA a user chose to
 * trust stays valid across runs.
 */
import { createHash, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';
import type { SecureContext } from 'node:tls';
import { createSecureContext } from 'node:tls';

/**
 * selfsigned (and the ASN.1 modules under it, a hundred files) is loaded when a certificate is made: every
 * Playwright worker loads this file through the browser detection, and none of them makes one.
 */
async function selfsigned() {
  return (await import('selfsigned')).default;
}

export interface LocalCa {
  /** PEM file of the CA certificate, for clients to trust. */
  certFile: string;
  cert: string;
  key: string;
}

/** Where the CA lives unless told otherwise: R2_CORS_CA_DIR, else ~/.cache/r2-cors-conformance. */
export function defaultCaDir(): string {
  return (
    process.env.R2_CORS_CA_DIR ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'r2-cors-conformance')
  );
}

const TEN_YEARS_MS = 3650 * 24 * 3600 * 1000;

export async function loadOrCreateCa(dir: string = defaultCaDir()): Promise<LocalCa> {
  const certFile = path.join(dir, 'ca.pem');
  const keyFile = path.join(dir, 'ca-key.pem');
  try {
    return { certFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
  } catch {
    // First use: make one.
  }
  const made = await (await selfsigned()).generate([{ name: 'commonName', value: 'r2-cors-conformance local CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + TEN_YEARS_MS),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // Several processes may make one at once (test files run concurrently, each starting emulators): the first
  // key in place wins, its cert follows it, and the others read that pair instead of their own.
  if (!createOnce(keyFile, made.private, 0o600)) {
    const cert = await waitForFile(certFile);
    return { certFile, cert, key: readFileSync(keyFile, 'utf8') };
  }
  createOnce(certFile, made.cert, 0o644);
  return { certFile, cert: made.cert, key: made.private };
}

/** Writes `file` only if it does not exist yet, atomically (a complete file or none); false if it existed. */
function createOnce(file: string, text: string, mode: number): boolean {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temporary, text, { mode });
  try {
    linkSync(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(temporary, { force: true });
  }
}

async function waitForFile(file: string): Promise<string> {
  for (let waited = 0; ; waited += 20) {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || waited > 10_000) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const ONE_YEAR_MS = 365 * 24 * 3600 * 1000;

/**
 * The one key pair of every server certificate the CA issues. Sharing it lets Chromium trust all of them
 * through a single `--ignore-certificate-errors-spki-list` hash: certificates are then valid, not errors
 * ignored, which matters because Chromium does not cache preflights made over a connection with a
 * certificate error. Made synchronously, because the Playwright configuration needs its hash.
 */
export function leafKeyPair(dir: string = defaultCaDir()): { privateKey: string; publicKey: string } {
  const file = path.join(dir, 'leaf-key.pem');
  let privateKey: string;
  try {
    privateKey = readFileSync(file, 'utf8');
  } catch {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Made by several processes at once, the first in place is the one every process uses.
    createOnce(file, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 0o600);
    privateKey = readFileSync(file, 'utf8');
  }
  const publicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }) as string;
  return { privateKey, publicKey };
}

/** base64(SHA-256(SubjectPublicKeyInfo)) of the server certificates' key, for Chromium's SPKI list. */
export function leafSpkiHash(dir: string = defaultCaDir()): string {
  const der = createPublicKey(leafKeyPair(dir).publicKey).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

/** A server certificate for the given DNS names and IP addresses, signed by the CA. */
export async function issueCertificate(
  ca: LocalCa,
  names: string[],
  ips: string[] = [],
): Promise<{ key: string; cert: string }> {
  const made = await (await selfsigned()).generate([{ name: 'commonName', value: names[0] ?? ips[0] ?? 'localhost' }], {
    keyType: 'ec',
    keyPair: leafKeyPair(path.dirname(ca.certFile)),
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + ONE_YEAR_MS),
    ca: { key: ca.key, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          ...names.map((value) => ({ type: 2 as const, value })),
          ...ips.map((ip) => ({ type: 7 as const, ip })),
        ],
      },
    ],
  });
  return { key: made.private, cert: made.cert };
}

/**
 * TLS options for a server that answers any host name it is asked for (SNI) with a certificate made for that
 * name on first use, and for loopback addresses without SNI.
 */
export async function serverTlsOptions(ca: LocalCa) {
  const loopback = await issueCertificate(ca, ['localhost'], ['127.0.0.1', '::1']);
  const contexts = new Map<string, Promise<SecureContext>>();
  return {
    key: loopback.key,
    cert: loopback.cert,
    SNICallback(servername: string, done: (error: Error | null, context?: SecureContext) => void) {
      // An address sent as a name gets the loopback certificate, which lists the addresses.
      if (isIP(servername)) {
        done(null, undefined);
        return;
      }
      let context = contexts.get(servername);
      if (!context) {
        // Names come from clients; keep the cache bounded.
        if (contexts.size >= 1000) contexts.clear();
        context = issueCertificate(ca, [servername]).then((pair) => createSecureContext(pair));
        contexts.set(servername, context);
      }
      context.then(
        (c) => done(null, c),
        (error: Error) => done(error),
      );
    },
  };
}
