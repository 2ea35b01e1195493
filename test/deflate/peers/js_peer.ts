/**
 * A permessage-deflate interop peer for Node, Deno and Bun, driven by JSON lines on stdin
 * (the matrix's protocol: a `ready` line first, then `{ id, op, ... }` commands answered
 * with `{ id, ok, ... }`; see test/matrix/processes.ts).
 *
 * ```sh
 * node test/deflate/peers/js_peer.ts
 * deno run -A --no-lock --no-remote test/deflate/peers/js_peer.ts
 * bun run --no-install test/deflate/peers/js_peer.ts
 * ```
 *
 * Commands:
 * - `serve { impl, sets, limits? }`: one echo server per named parameter set, answers `{ ports }`
 *   (wsflow: `limits` such as `maxMessage` override the 16 MiB defaults).
 *   `impl: 'wsflow'` is the runtime's wsflow shim with `perMessageDeflate: sets[name]`
 *   (`!plain`/`!force` marks honoured, see plan.ts); `impl: 'native'` is `Deno.serve` +
 *   `Deno.upgradeWebSocket`, or `Bun.serve` with `perMessageDeflate: sets[name]`.
 * - `run { impl, url, params, plan, timeoutMs }`: connects (wsflow's `connect` with
 *   `perMessageDeflate: params`, or the runtime's built-in `WebSocket`), runs the plan
 *   (plan.ts), closes with 1000, answers a {@link RunResult}.
 * - `status`: answers `{ pid, rss }` (a liveness check).
 * - `exit`.
 * @module
 */
import { createInterface } from 'node:readline';
import process from 'node:process';
import { echoCompressOf, runPlan, type PlanItem, type RunResult } from '../plan.ts';

type Runtime = 'node' | 'deno' | 'bun';
const g = globalThis as unknown as { Deno?: unknown; Bun?: unknown };
const runtime: Runtime = g.Deno !== undefined ? 'deno' : g.Bun !== undefined ? 'bun' : 'node';

/** The part of a codec `WebSocketConnection` used here. */
interface Connection {
  readonly extensions: string;
  readonly closed: Promise<{ closeCode: number; reason: string; wasClean: boolean }>;
  onmessage: ((data: string | Uint8Array) => void) | null;
  send(data: string | Uint8Array, options?: { compress?: boolean }): boolean;
  close(options?: { closeCode?: number; reason?: string }): void;
  abort(): void;
}

interface Shim {
  serve(options: Record<string, unknown>): Promise<{ port: number; close(): Promise<void> }>;
  connect(url: string, options: Record<string, unknown>): Promise<Connection>;
}

const MiB = 1024 * 1024;
const LIMITS = { maxPayload: 16 * MiB, maxMessage: 16 * MiB };

async function shim(): Promise<Shim> {
  const specifier = `@wsflow/${runtime}`;
  return (await import(specifier)) as Shim;
}

const closers: Array<() => Promise<void> | void> = [];

async function serveWsflow(params: unknown, limits: Record<string, number> = {}): Promise<number> {
  const { serve } = await shim();
  const server = await serve({
    port: 0,
    host: '127.0.0.1',
    ...LIMITS,
    ...limits,
    perMessageDeflate: params,
    handler: (conn: Connection) => {
      conn.onmessage = (data) => {
        conn.send(data, { compress: echoCompressOf(data) });
      };
    },
  });
  closers.push(() => server.close());
  return server.port;
}

interface BunServerSocket {
  send(data: string | Uint8Array, compress?: boolean): number;
}
interface BunApi {
  serve(options: Record<string, unknown>): { port: number; stop(force?: boolean): unknown };
}
interface DenoApi {
  serve(options: Record<string, unknown>, handler: (request: Request) => Response): { addr: { port: number }; shutdown(): Promise<void> };
  upgradeWebSocket(request: Request): { socket: WebSocket; response: Response };
}

async function serveNative(params: unknown): Promise<number> {
  if (runtime === 'bun') {
    const bun = g.Bun as BunApi;
    const server = bun.serve({
      port: 0,
      hostname: '127.0.0.1',
      fetch(request: Request, srv: { upgrade(r: Request): boolean }) {
        return srv.upgrade(request) ? undefined : new Response('WebSocket only', { status: 426 });
      },
      websocket: {
        maxPayloadLength: LIMITS.maxPayload,
        perMessageDeflate: params,
        message(ws: BunServerSocket, data: string | Uint8Array) {
          const compress = echoCompressOf(data);
          ws.send(data, compress ?? true);
        },
      },
    });
    closers.push(() => void server.stop(true));
    return server.port;
  }
  if (runtime === 'deno') {
    const deno = g.Deno as DenoApi;
    let resolve!: (port: number) => void;
    const promise = new Promise<number>((r) => (resolve = r));
    const server = deno.serve({ port: 0, hostname: '127.0.0.1', onListen: ({ port }: { port: number }) => resolve(port) }, (request) => {
      const { socket, response } = deno.upgradeWebSocket(request);
      socket.binaryType = 'arraybuffer';
      socket.onmessage = (event) => socket.send(event.data);
      return response;
    });
    closers.push(() => server.shutdown());
    return promise;
  }
  throw new Error('node has no native WebSocket server');
}

/** A message queue with a bounded `next()`. */
class Inbox {
  readonly #queue: Array<string | Uint8Array> = [];
  #waiter: ((data: string | Uint8Array) => void) | null = null;
  #failure: Error | null = null;
  #fail: ((error: Error) => void) | null = null;

  push(data: string | Uint8Array): void {
    if (this.#waiter !== null) {
      const waiter = this.#waiter;
      this.#waiter = this.#fail = null;
      waiter(data);
    } else this.#queue.push(data);
  }

  end(error: Error): void {
    this.#failure ??= error;
    this.#fail?.(error);
  }

  next(deadline: number): Promise<string | Uint8Array> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#failure !== null) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = this.#fail = null;
        reject(new Error('timed out waiting for an echo'));
      }, Math.max(0, deadline - Date.now()));
      this.#waiter = (data) => (clearTimeout(timer), resolve(data));
      this.#fail = (error) => (clearTimeout(timer), (this.#waiter = this.#fail = null), reject(error));
    });
  }
}

async function runWsflow(url: string, params: unknown, plan: PlanItem[], deadline: number): Promise<RunResult> {
  const started = Date.now();
  const { connect } = await shim();
  const conn = await connect(url, { ...LIMITS, perMessageDeflate: params, proxy: false, handshakeTimeout: 10_000 });
  const inbox = new Inbox();
  conn.onmessage = (data) => inbox.push(data);
  void conn.closed.then((info) => inbox.end(new Error(`closed ${info.closeCode} ${info.reason}`)));
  try {
    const tally = await runPlan(plan, {
      send: (data, compress) => void conn.send(data, compress === undefined ? undefined : { compress }),
      next: () => inbox.next(deadline),
    });
    conn.close({ closeCode: 1000 });
    const info = await Promise.race([conn.closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
    return { extensions: conn.extensions, ...tally, closeCode: info?.closeCode ?? -1, ms: Date.now() - started };
  } catch (error) {
    conn.abort();
    throw error;
  }
}

async function runNative(url: string, plan: PlanItem[], deadline: number): Promise<RunResult> {
  const started = Date.now();
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  const inbox = new Inbox();
  const closed = new Promise<number>((resolve) => {
    ws.onclose = (event) => {
      inbox.end(new Error(`closed ${event.code}`));
      resolve(event.code);
    };
  });
  ws.onmessage = (event) => inbox.push(typeof event.data === 'string' ? event.data : new Uint8Array(event.data as ArrayBuffer));
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error('the built-in WebSocket failed to open'));
  });
  const tally = await runPlan(plan, { send: (data) => ws.send(data), next: () => inbox.next(deadline) });
  ws.close(1000);
  const code = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 5000))]);
  return { extensions: ws.extensions, ...tally, closeCode: code, ms: Date.now() - started };
}

type Command =
  | { id: number; op: 'serve'; impl: 'wsflow' | 'native'; sets: Record<string, unknown>; limits?: Record<string, number> }
  | { id: number; op: 'run'; impl: 'wsflow' | 'native'; url: string; params?: unknown; plan: PlanItem[]; timeoutMs?: number }
  | { id: number; op: 'status' }
  | { id: number; op: 'exit' };

async function handle(command: Command): Promise<Record<string, unknown>> {
  switch (command.op) {
    case 'serve': {
      const ports: Record<string, number> = {};
      for (const [name, params] of Object.entries(command.sets)) {
        ports[name] = command.impl === 'wsflow' ? await serveWsflow(params, command.limits) : await serveNative(params);
      }
      return { ports };
    }
    case 'run': {
      const deadline = Date.now() + (command.timeoutMs ?? 30_000);
      const result =
        command.impl === 'wsflow' ? await runWsflow(command.url, command.params, command.plan, deadline) : await runNative(command.url, command.plan, deadline);
      return { ...result };
    }
    case 'status':
      // The server process is alive and answering; its resident set, as the runtime sees it.
      return { pid: process.pid, rss: process.memoryUsage().rss };
    case 'exit':
      await Promise.allSettled(closers.map((close) => close()));
      return {};
  }
}

const write = (answer: unknown): void => void process.stdout.write(`${JSON.stringify(answer)}\n`);
write({ ready: true, runtime });
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  if (line.trim() === '') return;
  const command = JSON.parse(line) as Command;
  handle(command).then(
    (result) => {
      write({ id: command.id, ok: true, ...result });
      if (command.op === 'exit') setTimeout(() => process.exit(0), 20);
    },
    (error: unknown) => {
      const code = (error as { code?: unknown } | null)?.code;
      const text = error instanceof Error ? `${error.name}${typeof code === 'string' ? ` ${code}` : ''}: ${error.message}` : String(error);
      write({ id: command.id, ok: false, error: text });
    },
  );
});
lines.on('close', () => setTimeout(() => process.exit(0), 20));
