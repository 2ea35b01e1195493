/**
 * The server the hardening tools and tests load: wsflow's `serve` of the runtime it runs
 * in (Node, Deno or Bun), with the echo server's limits and permessage-deflate when offered,
 * on 127.0.0.1 and a port the OS picks. It speaks JSON lines: on stdout first a ready line, then one answer per command
 * read from stdin.
 *
 * ```sh
 * node tools/soak/server.ts [--limits echo|default]
 * deno run -A --no-lock --no-remote tools/soak/server.ts [--limits echo|default]
 * bun run --no-install tools/soak/server.ts [--limits echo|default]
 * ```
 *
 * Paths:
 * - any path but `/flood`: echo (text as text, binary as binary).
 * - `/flood?id=ID&mode=writable|send|unguarded&bytes=N&chunk=C`: sends N bytes as binary
 *   messages of C bytes, each freshly allocated and filled (so that queued data costs real
 *   memory), through `writable` (waiting on each write, i.e. on backpressure), through
 *   `send()` guarded by `bufferedAmount` (at most 1 MiB queued, polled every 5 ms), or
 *   unguarded (`send()` in a loop; for showing what the bound catches, never in CI).
 *
 * Commands (stdin), each answered with `{"id": …, …}`:
 * - `{"id":1,"op":"stats"}`: `{ open, accepted, closedAtHandler, messages, echoedBytes, rss,
 *   heapUsed, arrayBuffers, oldest, floods }`,
 *   where `oldest` lists the 20 oldest open connections (`{ input, ageMs, state, buffered }`,
 *   `input` being the socket fuzzer's `X-Fuzz-Input` tag) and each flood is `{ id, mode, target, accepted, buffered, ended, closeCode }`.
 * - `{"id":2,"op":"gc"}`: a full garbage collection where one is exposed (`node --expose-gc`,
 *   Bun), then the stats: `{ collected, stats }`.
 * - `{"id":3,"op":"exit"}`: closes the server and exits. Closing stdin does the same.
 * @module
 */
import process from 'node:process';
import { createInterface } from 'node:readline';

/**
 * The limits: the echo tool's (tools/autobahn_limits.ts: 64 MiB per frame and message,
 * 262 144 fragments), or with `--limits default` wsflow's defaults (16 MiB, 16 MiB, 65 536).
 */
const LIMITS =
  process.argv.includes('--limits') && process.argv[process.argv.indexOf('--limits') + 1] === 'default'
    ? {}
    : { maxPayload: 64 * 1024 * 1024, maxMessage: 64 * 1024 * 1024, maxFragments: 4 * 65536 };
/** Bytes queued above which the `send` flood waits. */
const SEND_HIGH_WATER = 1024 * 1024;

/** The part of a codec `WebSocketConnection` used here. */
interface Connection {
  readonly bufferedAmount: number;
  readonly state: 'open' | 'closing' | 'closed';
  readonly writable: WritableStream<Uint8Array>;
  onmessage: ((data: string | Uint8Array) => void) | null;
  onclose: ((info: { closeCode: number; reason: string; wasClean: boolean }) => void) | null;
  send(data: string | Uint8Array): boolean;
  close(options?: { closeCode?: number; reason?: string }): void;
}

/** A Node `IncomingMessage` or a WHATWG `Request`: both have `url` and `headers`. */
interface AnyRequest {
  url?: string;
  headers: { get(name: string): string | null } | Record<string, string | string[] | undefined>;
}

/** The `X-Fuzz-Input` header the socket fuzzer tags its requests with (null without one). */
function fuzzInputOf(request: AnyRequest): string | null {
  const h = request.headers;
  const value = typeof h.get === 'function' ? (h as { get(name: string): string | null }).get('x-fuzz-input') : (h as Record<string, unknown>)['x-fuzz-input'];
  return typeof value === 'string' ? value : null;
}

interface Shim {
  serve(options: Record<string, unknown>): Promise<{ port: number; close(): Promise<void> }>;
}

/** One flood's progress. */
interface Flood {
  id: string;
  mode: string;
  target: number;
  /** Payload bytes handed to wsflow (`write()` called or `send()` returned). */
  accepted: number;
  /** The connection's `bufferedAmount` now (last value once closed). */
  buffered: number;
  /** The sending loop has returned. */
  ended: boolean;
  /** The connection's close code once closed, else null. */
  closeCode: number | null;
  connection: Connection;
}

const g = globalThis as unknown as { Deno?: unknown; Bun?: unknown };
const runtime = g.Deno !== undefined ? 'deno' : g.Bun !== undefined ? 'bun' : 'node';

/**
 * `closedAtHandler`: connections already closed when the handler got them (their `onclose`
 * had fired before it could be set), counted as closed at once.
 */
const stats = { open: 0, accepted: 0, closedAtHandler: 0, messages: 0, echoedBytes: 0 };
const floods = new Map<string, Flood>();
/** The fuzz inputs (`X-Fuzz-Input`) of the first 20 connections that were closed when the handler got them. */
const closedAtHandlerInputs: (string | null)[] = [];
/** The open connections: their fuzz input if tagged, and since when. */
const openConnections = new Map<Connection, { input: string | null; since: number }>();

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A fresh chunk with every page written, numbered by its first octet. */
function chunkOf(size: number, n: number): Uint8Array {
  const chunk = new Uint8Array(size);
  chunk.fill(n & 0xff);
  return chunk;
}

async function flood(f: Flood, chunk: number): Promise<void> {
  const conn = f.connection;
  let n = 0;
  if (f.mode === 'writable') {
    const writer = conn.writable.getWriter();
    while (f.accepted < f.target) {
      const size = Math.min(chunk, f.target - f.accepted);
      const written = writer.write(chunkOf(size, n++));
      f.accepted += size;
      try {
        await written;
      } catch {
        break; // the connection closed
      }
    }
  } else if (f.mode === 'send') {
    while (f.accepted < f.target && conn.state === 'open') {
      if (conn.bufferedAmount > SEND_HIGH_WATER) {
        await sleep(5);
        continue;
      }
      const size = Math.min(chunk, f.target - f.accepted);
      if (!conn.send(chunkOf(size, n++))) break;
      f.accepted += size;
    }
  } else {
    // Unguarded: what a server that ignores backpressure does. Yields every 16 chunks.
    while (f.accepted < f.target && conn.state === 'open') {
      for (let i = 0; i < 16 && f.accepted < f.target; i++) {
        const size = Math.min(chunk, f.target - f.accepted);
        if (!conn.send(chunkOf(size, n++))) break;
        f.accepted += size;
      }
      await sleep(0);
    }
  }
  f.ended = true;
}

function handler(conn: Connection, request: AnyRequest): void {
  stats.accepted++;
  const input = fuzzInputOf(request);
  if (conn.state === 'closed') {
    stats.closedAtHandler++;
    if (closedAtHandlerInputs.length < 20) closedAtHandlerInputs.push(input);
    return;
  }
  stats.open++;
  openConnections.set(conn, { input, since: Date.now() });
  const url = new URL(request.url ?? '/', 'ws://server.invalid');
  let record: Flood | null = null;
  conn.onclose = (info) => {
    stats.open--;
    openConnections.delete(conn);
    if (record !== null) {
      record.closeCode = info.closeCode;
      record.buffered = conn.bufferedAmount;
    }
  };
  if (url.pathname === '/flood') {
    const id = url.searchParams.get('id') ?? String(floods.size + 1);
    const mode = url.searchParams.get('mode') ?? 'writable';
    record = {
      id,
      mode: mode === 'send' || mode === 'unguarded' ? mode : 'writable',
      target: Number(url.searchParams.get('bytes') ?? 2 ** 30),
      accepted: 0,
      buffered: 0,
      ended: false,
      closeCode: null,
      connection: conn,
    };
    floods.set(id, record);
    // Incoming messages are ignored (a Close still ends the connection).
    conn.onmessage = () => {};
    const f = record;
    flood(f, Number(url.searchParams.get('chunk') ?? 65536)).catch((error: unknown) => {
      process.stderr.write(`flood ${f.id} failed: ${String(error)}\n`);
      f.ended = true;
    });
    return;
  }
  conn.onmessage = (data) => {
    stats.messages++;
    stats.echoedBytes += typeof data === 'string' ? data.length : data.byteLength;
    conn.send(data);
  };
}

/** The runtime's own memory figures: RSS, and the JavaScript heap in use and array buffers outside it. */
function memory(): { rss: number; heapUsed: number; arrayBuffers: number } {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers ?? 0 };
}

function snapshot(): Record<string, unknown> {
  const now = Date.now();
  return {
    ...stats,
    ...memory(),
    closedAtHandlerInputs,
    // The 20 oldest open connections: what a leak looks like.
    oldest: [...openConnections.entries()].slice(0, 20).map(([conn, o]) => ({ input: o.input, ageMs: now - o.since, state: conn.state, buffered: conn.bufferedAmount })),
    floods: [...floods.values()].map((f) => ({
      id: f.id,
      mode: f.mode,
      target: f.target,
      accepted: f.accepted,
      buffered: f.closeCode === null ? f.connection.bufferedAmount : f.buffered,
      ended: f.ended,
      closeCode: f.closeCode,
    })),
  };
}

const shim = (await import(`@wsflow/${runtime}`)) as Shim;
// permessage-deflate (RFC 7692) when a client offers it, as the echo servers do.
const server = await shim.serve({ port: 0, host: '127.0.0.1', ...LIMITS, perMessageDeflate: true, handler });
const write = (line: unknown): void => void process.stdout.write(`${JSON.stringify(line)}\n`);
write({ ready: true, runtime, pid: process.pid, port: server.port });

let exiting = false;
function exit(): void {
  if (exiting) return;
  exiting = true;
  const timer = setTimeout(() => process.exit(0), 3000);
  server.close().finally(() => {
    clearTimeout(timer);
    process.exit(0);
  });
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  if (line.trim() === '') return;
  let command: { id?: number; op?: string };
  try {
    command = JSON.parse(line) as { id?: number; op?: string };
  } catch {
    write({ id: -1, error: 'not JSON' });
    return;
  }
  if (command.op === 'stats') write({ id: command.id, stats: snapshot() });
  else if (command.op === 'gc') {
    // Only with a collector exposed (node --expose-gc, bun's Bun.gc): for telling garbage from leaks.
    const gc = (globalThis as { gc?: () => void }).gc ?? ((globalThis as { Bun?: { gc(force: boolean): void } }).Bun === undefined ? undefined : () => (globalThis as unknown as { Bun: { gc(force: boolean): void } }).Bun.gc(true));
    if (gc !== undefined) gc();
    write({ id: command.id, collected: gc !== undefined, stats: snapshot() });
  }
  else if (command.op === 'exit') {
    write({ id: command.id, ok: true });
    exit();
  } else write({ id: command.id, error: `unknown op ${String(command.op)}` });
});
lines.on('close', exit);
