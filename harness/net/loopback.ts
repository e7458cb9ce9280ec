/** Servers of the harness listen on loopback only, on a port the system picks. */
import type { Server } from 'node:net';

/** Starts `server` on 127.0.0.1 and a free port; resolves with `127.0.0.1:<port>`. */
export async function listenOnLoopback(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return `127.0.0.1:${(server.address() as { port: number }).port}`;
}
