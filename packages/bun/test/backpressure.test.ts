// Backpressure both ways on Bun sockets: writes to a peer that does not read queue in the
// transport (partial writes kept, counted in bufferedAmount, flushed on drain) and
// `writable` stops accepting above its high-water mark; a `readable` nobody reads stops
// reading the socket, so the peer's writes back up.
import { afterEach, describe, expect, test } from 'vitest';
import { serve, type WebSocketConnection, type WebSocketServer } from '../src/index.ts';
import { MiB } from './support/payloads.ts';
import { clientFrame, Opcode, RawPeer } from './support/raw_peer.ts';
import { delay, until, within } from './support/wait.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(handler: (conn: WebSocketConnection) => void, options: Parameters<typeof serve>[0] = {}): Promise<WebSocketServer> {
  const server = await serve({ handler, ...options });
  cleanups.push(() => server.close());
  return server;
}

/** A 64 KiB unmasked binary frame's size on the wire. */
const FRAME = 64 * 1024 + 4;

describe('writing to a peer that does not read', () => {
  test('writable: bufferedAmount grows past what the kernel takes, then stays bounded by the high-water mark', async () => {
    const total = 64 * MiB;
    const chunk = new Uint8Array(64 * 1024);
    const stats = { written: 0, maxBuffered: 0, done: false };
    let serverConn!: WebSocketConnection;
    const server = await start(
      (conn) => {
        serverConn = conn;
        const writer = conn.writable.getWriter();
        void (async () => {
          while (stats.written < total) {
            await writer.write(chunk);
            stats.written += chunk.length;
            stats.maxBuffered = Math.max(stats.maxBuffered, conn.bufferedAmount);
          }
          stats.done = true;
        })().catch(() => {});
      },
      { writableHighWaterMark: MiB },
    );
    const peer = await RawPeer.upgraded(server.port);
    cleanups.push(() => peer.close());
    peer.socket.pause();
    // Kernel buffers fill, then the transport queues, then writable waits for drains.
    await until(() => serverConn !== undefined && serverConn.bufferedAmount > 0, 5000, 'queued bytes');
    await delay(300);
    const stalledAt = stats.written;
    await delay(300);
    expect(stats.written).toBe(stalledAt); // no progress while the peer does not read
    expect(stats.written).toBeLessThan(total);
    expect(stats.maxBuffered).toBeGreaterThan(0);
    expect(stats.maxBuffered).toBeLessThanOrEqual(MiB + FRAME);
    expect(serverConn.bufferedAmount).toBeLessThanOrEqual(MiB + FRAME);
    // The peer reads again: everything drains and arrives.
    peer.socket.resume();
    await until(() => stats.done, 20_000, 'all writes');
    await until(() => peer.bytesReceived >= total + (total / chunk.length) * 4, 20_000, 'all bytes at the peer');
    await until(() => serverConn.bufferedAmount === 0, 5000, 'empty queue');
  }, 40_000);

  test('send(): bufferedAmount counts what the socket has not taken, and falls to 0 once the peer reads', async () => {
    let serverConn!: WebSocketConnection;
    const server = await start((conn) => {
      serverConn = conn;
    });
    const peer = await RawPeer.upgraded(server.port);
    cleanups.push(() => peer.close());
    peer.socket.pause();
    await until(() => serverConn !== undefined);
    const message = new Uint8Array(MiB);
    for (let i = 0; i < 32; i++) serverConn.send(message);
    // Loopback kernel buffers take a few MiB at most: the rest is queued in the transport.
    expect(serverConn.bufferedAmount).toBeGreaterThan(8 * MiB);
    expect(serverConn.bufferedAmount).toBeLessThanOrEqual(32 * (MiB + 10));
    peer.socket.resume();
    await until(() => serverConn.bufferedAmount === 0, 20_000, 'drained');
    await until(() => peer.bytesReceived >= 32 * (MiB + 10), 20_000, 'received');
  }, 30_000);

  test('a peer that vanishes with bytes queued: the queue is dropped and the connection reports 1006', async () => {
    let serverConn!: WebSocketConnection;
    const server = await start((conn) => {
      serverConn = conn;
    });
    const peer = await RawPeer.upgraded(server.port);
    peer.socket.pause();
    await until(() => serverConn !== undefined);
    for (let i = 0; i < 16; i++) serverConn.send(new Uint8Array(MiB));
    expect(serverConn.bufferedAmount).toBeGreaterThan(0);
    peer.close();
    expect((await within(serverConn.closed, 3000, 'closed')).closeCode).toBe(1006);
    expect(serverConn.bufferedAmount).toBe(0);
  });
});

describe('reading from a peer faster than the application', () => {
  test('a readable nobody reads stops reading the socket: the peer backs up; reading resumes it', async () => {
    let readable!: ReadableStream<string | Uint8Array>;
    const server = await start((conn) => {
      readable = conn.readable;
    });
    const peer = await RawPeer.upgraded(server.port);
    cleanups.push(() => peer.close());
    const frame = clientFrame(Opcode.Binary, new Uint8Array(256 * 1024));
    const count = 256; // 64 MiB, far more than socket buffers and the readable's 16 messages hold
    for (let i = 0; i < count; i++) peer.write(frame);
    await until(() => readable !== undefined);
    await delay(300);
    expect(peer.queuedBytes).toBeGreaterThan(0);
    const before = peer.queuedBytes;
    await delay(200);
    expect(peer.queuedBytes).toBe(before); // the server reads nothing more
    let received = 0;
    const reader = readable.getReader();
    while (received < count) {
      const { value, done } = await within(reader.read(), 5000, `message ${received}`);
      if (done) break;
      expect((value as Uint8Array).length).toBe(256 * 1024);
      received++;
    }
    expect(received).toBe(count);
    expect(peer.queuedBytes).toBe(0);
  }, 30_000);
});
