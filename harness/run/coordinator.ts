/**
 * Waves inside one Playwright run (README, "Waves"). With fewer buckets than slots, the set-up prepares wave 1
 * and starts this coordinator in Playwright's main process. A test asks it for its slot's bucket before anything
 * else and waits, if its slot's wave is not in force yet. The coordinator knows which tests the run holds
 * (Playwright's list, after --project, --grep and --shard, from the feed reporter, wave-feed.ts) and sees each
 * one end; when every test of a wave has ended, it applies the next wave that has tests and proves it in effect,
 * then lets that wave's tests go.
 *
 * Why this cannot deadlock: the specs declare their tests in the plan's order (waves.ts), and Playwright hands a
 * project's tests to its workers in that order, so a worker that waits for wave k+1 has only tests of wave k+1 or
 * later behind it in its project; and each project has workers of its own (playwright.config.ts caps the raw
 * project's beside the browsers'). A run that cannot keep to that (fewer workers than its projects need, or
 * retries, which Playwright schedules after later tests) is refused before a test waits, and says why.
 *
 * Workers reach it over loopback HTTP (R2_CORS_WAVES): one long-polled GET per test.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request } from 'undici';
import { listenOnLoopback } from '../net/loopback.ts';
import type { CaseRun } from './state.ts';
import { type Slot, slotKey, slotList, type WavePlan } from './waves.ts';

/** What the feed reporter tells of one test: its case, and the client (project) that runs it. */
export interface TestSeen {
  caseId: string;
  client: string;
}

/** What the feed reporter reports from Playwright's list of tests. */
export interface RunSeen {
  tests: TestSeen[];
  /** Playwright's worker limit (`--workers` or the config's). */
  workers: number;
  /** Workers the projects of this run may hold at once, summed (playwright.config.ts). */
  projectWorkers: number;
  /** Whether any test is retried on failure. */
  retries: boolean;
}

export interface WaveCoordinator {
  /** `127.0.0.1:<port>`, for R2_CORS_WAVES. */
  address: string;
  /** From the feed reporter: the run's tests, before any starts. */
  begin(run: RunSeen): void;
  /**
   * From the feed reporter: a test's last attempt ended. `interrupted`: Playwright stopped it, so the run is
   * stopping (Ctrl-C, --max-failures, --global-timeout) and no further wave is applied: on a live bucket each
   * would cost a propagation wait, for tests that will not run.
   */
  ended(test: TestSeen, interrupted?: boolean): void;
  /** Stops applying waves, waits for one in progress, and answers every waiting test that the run is ending. */
  close(): Promise<void>;
}

export interface CoordinatorOptions {
  plan: WavePlan;
  /** The run of each slot, by slot key; a wave's are complete once prepareWave has resolved. */
  runs: Map<string, CaseRun>;
  /** Seeds and applies wave `index` (0-based) on its buckets; failures go in the slots' runs. */
  prepareWave: (index: number, signal: AbortSignal) => Promise<void>;
  log: (line: string) => void;
}

/** The slot a test of `client` belongs to: the case's for every client, or the sequence's own for that client. */
function slotOf(bySlot: Map<string, Slot>, caseId: string, client: string): Slot | undefined {
  return bySlot.get(slotKey(caseId, 'all')) ?? bySlot.get(slotKey(caseId, client));
}

export async function startCoordinator(options: CoordinatorOptions): Promise<WaveCoordinator> {
  const { plan, runs, prepareWave, log } = options;
  const bySlot = new Map(plan.waves.flatMap((wave, i) => wave.map((s) => [s.key, { slot: s, wave: i }] as const)));
  const slots = new Map([...bySlot].map(([key, v]) => [key, v.slot]));
  /** Tests not ended yet, by slot key. */
  const left = new Map<string, number>();
  /** The wave in force (its tests may run); -1 once the run ends. */
  let current = 0;
  let refused: string | undefined;
  let begun = false;
  let closing = false;
  /** No wave with tests is left. */
  let finished = false;
  const stop = new AbortController();
  let preparing: Promise<void> | undefined;
  const waiting: { wave: number; answer: () => void }[] = [];

  const testsLeft = (wave: number) => plan.waves[wave].reduce((n, s) => n + (left.get(s.key) ?? 0), 0);
  const release = () => {
    for (let i = waiting.length - 1; i >= 0; i--) {
      if (waiting[i].wave > current && !closing && refused === undefined) continue;
      const [w] = waiting.splice(i, 1);
      w.answer();
    }
  };
  /** After wave `current`'s last test: the next wave with tests, applied and proven in effect. */
  const advance = async () => {
    let next = current + 1;
    while (next < plan.waves.length && testsLeft(next) === 0) next += 1;
    if (next >= plan.waves.length || closing) {
      finished = true;
      return;
    }
    const started = Date.now();
    log(`wave ${next + 1}/${plan.waves.length}: ${plan.waves[next].length} slot(s) (${slotList(plan.waves[next])})`);
    await prepareWave(next, stop.signal);
    if (closing) return;
    log(`wave ${next + 1}/${plan.waves.length} in effect after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    current = next;
    release();
  };
  const maybeAdvance = () => {
    if (preparing || finished || !begun || refused || closing || testsLeft(current) > 0) return;
    preparing = advance()
      .catch((error) => {
        // prepareWave keeps a bucket's failure in its slot's run; anything else ends the waves here.
        refused = `the waves stopped: ${(error as Error).message}`;
        log(refused);
        release();
      })
      .finally(() => {
        preparing = undefined;
        maybeAdvance();
      });
  };

  const answer = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://coordinator');
    const caseId = url.searchParams.get('case') ?? '';
    const client = url.searchParams.get('client') ?? '';
    const send = (status: number, body: object) => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const slot = slotOf(slots, caseId, client);
    // Not in the plan: a case the set-up left out (CORS_ZONE_WIDE), whose test then says why.
    if (!slot) return send(200, { none: true });
    const wave = bySlot.get(slot.key)?.wave ?? 0;
    const reply = () => {
      if (closing) return send(503, { error: 'the run is ending: no further wave is applied' });
      if (refused !== undefined && wave > current) return send(409, { error: refused });
      if (wave < current)
        return send(409, { error: `wave ${wave + 1} is over: this test came after its wave (a retry?)` });
      send(200, { run: runs.get(slot.key), wave: wave + 1, waves: plan.waves.length });
    };
    if (wave <= current || closing || refused !== undefined) return reply();
    waiting.push({ wave, answer: reply });
    req.on('close', () => {
      const i = waiting.findIndex((w) => w.answer === reply);
      if (i >= 0) waiting.splice(i, 1);
    });
  };
  /** No wave is applied from now on; the one being applied is stopped, and every waiting test answered. */
  const endWaves = (reason: string) => {
    closing = true;
    stop.abort(reason);
    release();
  };
  const server: Server = createServer(answer);
  const address = await listenOnLoopback(server);

  return {
    address,
    begin(run) {
      if (run.retries)
        refused =
          'retries cannot run in waves (Playwright runs a retry after later tests, whose wave may then be in force): run without --retries';
      else if (run.projectWorkers > run.workers)
        refused = `the projects of this run need ${run.projectWorkers} workers at once to run in waves, and Playwright has ${run.workers}: raise --workers (or CORS_WORKERS), or lower CORS_BROWSER_WORKERS`;
      // Playwright hands out a project's tests in this order: a wave after a later one would never come.
      const latest = new Map<string, { wave: number; caseId: string }>();
      for (const t of run.tests) {
        const slot = slotOf(slots, t.caseId, t.client);
        if (!slot) continue;
        left.set(slot.key, (left.get(slot.key) ?? 0) + 1);
        const wave = bySlot.get(slot.key)?.wave ?? 0;
        const before = latest.get(t.client);
        if (before && wave < before.wave)
          refused ??= `${t.caseId} (${t.client}, wave ${wave + 1}) is declared after ${before.caseId} (wave ${before.wave + 1}): a harness bug, please report it`;
        if (!before || wave > before.wave) latest.set(t.client, { wave, caseId: t.caseId });
      }
      if (refused) log(`cannot run in waves: ${refused}`);
      begun = true;
      release();
      maybeAdvance();
    },
    ended(t, interrupted) {
      if (interrupted && !closing) {
        log('the run is stopping (a test was interrupted): no further wave is applied');
        endWaves('the run is stopping');
        return;
      }
      const slot = slotOf(slots, t.caseId, t.client);
      if (!slot) return;
      left.set(slot.key, Math.max(0, (left.get(slot.key) ?? 0) - 1));
      maybeAdvance();
    },
    async close() {
      if (!closing) endWaves('the run is ending');
      await preparing?.catch(() => {});
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** A worker's wait for its slot's wave: the slot's run, or `undefined` for a case not in the plan. */
export async function waitForWave(
  address: string,
  caseId: string,
  client: string,
): Promise<{ run: CaseRun; wave: number; waves: number } | undefined> {
  const query = new URLSearchParams({ case: caseId, client });
  // No timeout of its own: the test's timeout (extended by the wait, worker.ts) and the run's end bound it.
  const res = await request(`http://${address}/run?${query}`, { headersTimeout: 0, bodyTimeout: 0 });
  const body = (await res.body.json()) as { none?: true; error?: string; run?: CaseRun; wave: number; waves: number };
  if (body.error) throw new Error(body.error);
  if (body.none || !body.run) return undefined;
  return { run: body.run, wave: body.wave, waves: body.waves };
}

const KEY = Symbol.for('r2-cors-conformance.waves');

/**
 * The run's coordinator, for the feed reporter: the set-up and the reporters share Playwright's main process but
 * not always a module instance (Playwright loads them through different loaders), hence `globalThis`.
 */
export function shareCoordinator(coordinator: WaveCoordinator | undefined) {
  (globalThis as { [KEY]?: WaveCoordinator })[KEY] = coordinator;
}

export function sharedCoordinator(): WaveCoordinator | undefined {
  return (globalThis as { [KEY]?: WaveCoordinator })[KEY];
}
