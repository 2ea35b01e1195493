/**
 * The slow-consumer check: a server (in its own process) is asked to send 1 GiB to a raw
 * TCP client that completes the handshake and then never reads. A server that respects
 * backpressure stops once the kernel's socket buffers are full, with at most its high-water
 * mark queued; one that does not queues the whole gigabyte. Meanwhile another client must
 * still get its echo, and closing the slow client must close the server's connection.
 * @module
 */
import { echoCheck, openRaw, type EchoResult } from './raw_client.ts';
import type { FloodStats, ServerProcess } from './server_process.ts';

/** How the server sends: `writable` (awaiting each write), `send` guarded by `bufferedAmount`, or `unguarded`. */
export type FloodMode = 'writable' | 'send' | 'unguarded';

/** Options of {@link runSlowConsumer}. */
export interface SlowConsumerOptions {
  mode: FloodMode;
  /** Bytes the server is asked to send. Default 1 GiB. */
  bytes?: number;
  /** Bytes per message. Default 64 KiB. */
  chunk?: number;
  /** The flood counts as stalled when `accepted` has not moved for this many ms. Default 1500. */
  stallMs?: number;
  /** Milliseconds to wait for the stall at most. Default 30 000. */
  timeoutMs?: number;
}

/** What {@link runSlowConsumer} measured. */
export interface SlowConsumerResult {
  runtime: string;
  mode: FloodMode;
  /** Bytes the server was asked to send. */
  attempted: number;
  /** Payload bytes the server's code handed to wsflow before it stalled. */
  accepted: number;
  /** wsflow's `bufferedAmount` at the stall: accepted but not yet handed to the socket. */
  buffered: number;
  /** accepted − buffered: payload bytes handed to the operating system. */
  handed: number;
  /** Whether the flood stalled (false: it sent everything, i.e. ignored nothing yet could not be stopped). */
  stalled: boolean;
  /** Server RSS (from /proc) before the flood, at its highest while stalled, and after the close. */
  rssBefore: number;
  rssPeak: number;
  rssAfter: number;
  /** The control client's echo while the flood was stalled. */
  echo: EchoResult;
  /** The server connection's close code after the client went away (null: not closed in time). */
  closeCode: number | null;
  /** The server's sending loop returned after the close. */
  loopEnded: boolean;
  /** Milliseconds from dropping the client to the server's connection being closed. */
  closeMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function floodOf(server: ServerProcess, id: string): Promise<FloodStats | undefined> {
  return (await server.stats()).floods.find((f) => f.id === id);
}

/**
 * Runs one slow-consumer scenario against a running server process. Bounded: the stall is
 * awaited at most `timeoutMs`, the close at most 15 s.
 */
export async function runSlowConsumer(server: ServerProcess, options: SlowConsumerOptions): Promise<SlowConsumerResult> {
  const { mode, bytes = 2 ** 30, chunk = 65536, stallMs = 1500, timeoutMs = 30_000 } = options;
  // Warm up the server's paths once, so that the baseline includes its code being loaded.
  await echoCheck(server.port);
  const rssBefore = (await server.rss()) ?? 0;
  const id = `${mode}-${Date.now()}`;
  const { socket } = await openRaw(server.port, { path: `/flood?id=${id}&mode=${mode}&bytes=${bytes}&chunk=${chunk}` });
  // The socket stays paused: the client never reads another byte.
  socket.on('error', () => {});
  let rssPeak = rssBefore;
  let last = -1;
  let since = Date.now();
  let flood: FloodStats | undefined;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await sleep(250);
    rssPeak = Math.max(rssPeak, (await server.rss()) ?? 0);
    flood = await floodOf(server, id);
    if (flood === undefined) continue;
    if (flood.ended) break;
    if (flood.accepted !== last) {
      last = flood.accepted;
      since = Date.now();
    } else if (Date.now() - since >= stallMs) break;
  }
  if (flood === undefined) throw new Error(`the ${server.runtime} server never started flood ${id}`);
  const stalled = !flood.ended && flood.accepted < bytes;
  const echo = await echoCheck(server.port);
  rssPeak = Math.max(rssPeak, (await server.rss()) ?? 0);
  const atStall = flood;
  // The client goes away without reading: the kernel resets the connection.
  const dropped = Date.now();
  socket.destroy();
  let closed: FloodStats | undefined;
  const closeDeadline = Date.now() + 15_000;
  while (Date.now() < closeDeadline) {
    await sleep(100);
    closed = await floodOf(server, id);
    if (closed !== undefined && closed.closeCode !== null && closed.ended) break;
  }
  const closeMs = Date.now() - dropped;
  await sleep(500);
  const rssAfter = (await server.rss()) ?? 0;
  return {
    runtime: server.runtime,
    mode,
    attempted: bytes,
    accepted: atStall.accepted,
    buffered: atStall.buffered,
    handed: atStall.accepted - atStall.buffered,
    stalled,
    rssBefore,
    rssPeak,
    rssAfter,
    echo,
    closeCode: closed?.closeCode ?? null,
    loopEnded: closed?.ended ?? false,
    closeMs,
  };
}
