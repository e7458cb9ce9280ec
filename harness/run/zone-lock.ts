/**
 * The one piece of state cases cannot each have to themselves: the custom domains' zone and its cache. Every
 * custom domain of a run sits in one zone (on a live account, the user's), and "purge everything" empties the
 * cache of the whole zone, so a case that purges everything would break any case that relies, at the same time,
 * on a response still being cached (README, "What cases share").
 *
 * What a case needs is read from its data, never from a list: a case whose steps purge everything uses the zone
 * **exclusively**; a case with a request on the `custom` surface, or a purge of its own keys, **shares** it.
 * A readers/writer lock enforces that across Playwright's worker processes: the run's main process serves it on
 * loopback (started by the global set-up), each worker holds it over one TCP connection, and a hold dies with
 * its connection, so a crashed or killed worker never leaves it taken. Requests are granted in arrival order
 * (a waiting exclusive request holds back later shared ones, so it is never starved); a connection holds at
 * most one grant, so there is nothing to deadlock on.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { LoadedCase, Step } from '../cases/model.ts';
import { listenOnLoopback } from '../net/loopback.ts';

export type ZoneMode = 'shared' | 'exclusive';

/** How a case uses the zone: the mode, and the indexes of its first and last steps that touch the zone. */
export interface ZoneUse {
  mode: ZoneMode;
  first: number;
  last: number;
}

function touchesZone(step: Step): boolean {
  return step.kind === 'purge' || (step.kind === 'request' && step.request.surface === 'custom');
}

/** What the case needs of the custom-domain zone, from its steps; undefined when it never touches it. */
export function zoneUse(c: LoadedCase): ZoneUse | undefined {
  const touching = c.steps.flatMap((s, i) => (touchesZone(s) ? [i] : []));
  if (touching.length === 0) return undefined;
  const wide = c.steps.some((s) => s.kind === 'purge' && s.everything);
  return { mode: wide ? 'exclusive' : 'shared', first: touching[0], last: touching[touching.length - 1] };
}

/** `CORS_ZONE_WIDE`: whether this run runs the zone-wide cases (`run`), leaves them out (`skip`), or runs only them. */
export type ZoneWide = 'run' | 'skip' | 'only';

export function zoneWideFromEnv(): ZoneWide {
  const value = process.env.CORS_ZONE_WIDE ?? 'run';
  if (value !== 'run' && value !== 'skip' && value !== 'only')
    throw new Error(`CORS_ZONE_WIDE must be run, skip or only (got '${value}')`);
  return value;
}

/**
 * Whether a case runs under `CORS_ZONE_WIDE`: the set-up prepares (applies policies to, seeds) only these, and
 * the specs skip the others, saying why; both ask here, so they always agree.
 */
export function runsUnder(c: LoadedCase, wide: ZoneWide): boolean {
  if (wide === 'run') return true;
  const exclusive = zoneUse(c)?.mode === 'exclusive';
  return wide === 'only' ? exclusive : !exclusive;
}

interface Hold {
  socket: Socket;
  mode: ZoneMode;
  /** Who holds or waits, for messages: the case, the project and the worker. */
  who: string;
}

interface Waiting extends Hold {
  timer: NodeJS.Timeout;
}

type Message = { op: 'acquire'; mode: ZoneMode; who: string; waitMs: number } | { op: 'release' };

export interface ZoneLockServer {
  /** `127.0.0.1:<port>`, for R2_CORS_ZONE_LOCK. */
  address: string;
  close(): Promise<void>;
}

/** Serves the lock on loopback until closed. */
export async function startZoneLock(): Promise<ZoneLockServer> {
  const holders = new Map<Socket, Hold>();
  const queue: Waiting[] = [];
  const reply = (socket: Socket, value: object) => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(value)}\n`);
  };
  const whoHolds = () =>
    [...holders.values(), ...queue].map((h) => `${h.who} (${h.mode}${holders.has(h.socket) ? '' : ', waiting'})`);
  const pump = () => {
    while (queue.length > 0) {
      const head = queue[0];
      const exclusiveHeld = [...holders.values()].some((h) => h.mode === 'exclusive');
      if (head.mode === 'exclusive' ? holders.size > 0 : exclusiveHeld) return;
      queue.shift();
      clearTimeout(head.timer);
      holders.set(head.socket, { socket: head.socket, mode: head.mode, who: head.who });
      reply(head.socket, { granted: true });
    }
  };
  const drop = (socket: Socket) => {
    holders.delete(socket);
    for (let i = queue.length - 1; i >= 0; i--) {
      if (queue[i].socket !== socket) continue;
      clearTimeout(queue[i].timer);
      queue.splice(i, 1);
    }
  };
  const handle = (socket: Socket, message: Message) => {
    // One grant per connection: a new request gives up what the connection held or asked for.
    drop(socket);
    if (message.op === 'release') {
      reply(socket, { released: true });
    } else {
      const waiting: Waiting = {
        socket,
        mode: message.mode,
        who: message.who,
        timer: setTimeout(() => {
          const others = whoHolds().filter((d) => !d.startsWith(`${message.who} (`));
          drop(socket);
          reply(socket, { granted: false, holders: others });
          pump();
        }, message.waitMs),
      };
      queue.push(waiting);
    }
    pump();
  };
  const server: Server = createServer((socket) => {
    let buffered = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          handle(socket, JSON.parse(line) as Message);
        } catch {
          socket.destroy();
        }
      }
    });
    // A worker that ends, crashes or is killed gives up its hold with its connection.
    socket.on('close', () => {
      drop(socket);
      pump();
    });
    socket.on('error', () => socket.destroy());
  });
  const address = await listenOnLoopback(server);
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        for (const w of queue) clearTimeout(w.timer);
        server.close(() => resolve());
        for (const h of holders.values()) h.socket.destroy();
        for (const w of queue) w.socket.destroy();
      }),
  };
}

export type Grant = { granted: true } | { granted: false; holders: string[] };

/** A worker's connection to the lock: one request at a time, as a worker runs one test at a time. */
export class ZoneLockClient {
  private socket: Socket | undefined;
  private buffered = '';
  private answer: { resolve: (value: Record<string, unknown>) => void; reject: (error: Error) => void } | undefined;

  constructor(private readonly address: string) {}

  static fromEnv(): ZoneLockClient {
    const address = process.env.R2_CORS_ZONE_LOCK;
    if (!address)
      throw new Error('R2_CORS_ZONE_LOCK is not set: run the suite with `npx playwright test`, whose set-up serves it');
    return new ZoneLockClient(address);
  }

  private connect(): Socket {
    if (this.socket && !this.socket.destroyed) return this.socket;
    const [host, port] = this.address.split(':');
    const socket = createConnection({ host, port: Number(port) });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffered += chunk;
      for (let nl = this.buffered.indexOf('\n'); nl >= 0; nl = this.buffered.indexOf('\n')) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        const answer = this.answer;
        this.answer = undefined;
        answer?.resolve(JSON.parse(line));
      }
    });
    const lost = (error?: Error) => {
      const answer = this.answer;
      this.answer = undefined;
      answer?.reject(new Error(`the zone lock at ${this.address} went away${error ? `: ${error.message}` : ''}`));
    };
    socket.on('error', lost);
    socket.on('close', () => lost());
    // The connection must not keep a worker alive on its own.
    socket.unref();
    this.socket = socket;
    return socket;
  }

  private ask(message: Message): Promise<Record<string, unknown>> {
    const socket = this.connect();
    return new Promise((resolve, reject) => {
      this.answer = { resolve, reject };
      socket.write(`${JSON.stringify(message)}\n`);
    });
  }

  /** Waits until granted, or `waitMs` at most; then says who held or waited for the zone. */
  async acquire(mode: ZoneMode, who: string, waitMs: number): Promise<Grant> {
    return (await this.ask({ op: 'acquire', mode, who, waitMs })) as Grant;
  }

  async release(): Promise<void> {
    if (!this.socket || this.socket.destroyed) return;
    await this.ask({ op: 'release' });
  }

  close() {
    this.socket?.destroy();
  }
}
