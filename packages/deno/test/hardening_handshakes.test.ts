// Hardening of the opening handshake on Deno: 1,000 slowloris conns are all dropped by the
// handshake timeout while a normal client connects and echoes throughout; the cap on
// pending handshakes evicts the oldest (reported EVICTED) so a newcomer always gets in;
// malformed requests get their 4xx and the conn is closed. No unhandled rejection or error.
import { describe, expect, it } from 'vitest';
import type { WebSocketConnection } from '@wsflow/codec';
import { connect, serve, type RejectionInfo, type ServeOptions, type WebSocketServer } from '../src/index.ts';
import { delay, guardEachTest, until } from './support/guarded.ts';
import { RawReader, send, upgradeRequest } from './support/raw.ts';

const cleanups = guardEachTest();

const echo = (conn: WebSocketConnection): void => {
  conn.onmessage = (data) => conn.send(data);
};

async function start(options: ServeOptions): Promise<WebSocketServer> {
  const server = await serve(options);
  cleanups.push(() => server.close());
  return server;
}

/** A raw conn that sent `bytes` and stalls, reading (and ignoring) until the server closes it. */
interface Staller {
  conn: Deno.TcpConn;
  openedAt: number;
  closedAt: number | null;
}

async function staller(port: number, bytes: string): Promise<Staller> {
  const conn = await Deno.connect({ hostname: '127.0.0.1', port });
  const stalled: Staller = { conn, openedAt: Date.now(), closedAt: null };
  await send(conn, bytes);
  void (async () => {
    const buffer = new Uint8Array(1024);
    try {
      for (let i = 0; i < 1000 && (await conn.read(buffer)) !== null; i++);
    } catch {
      /* reset or closed by us */
    }
    stalled.closedAt = Date.now();
  })();
  return stalled;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    /* closed already */
  }
}

async function stallers(port: number, count: number, bytes: string, batch = 100): Promise<Staller[]> {
  const all: Staller[] = [];
  cleanups.push(() => {
    for (const s of all) if (s.closedAt === null) closeQuietly(s.conn);
  });
  for (let i = 0; i < count; i += batch) {
    all.push(...(await Promise.all(Array.from({ length: Math.min(batch, count - i) }, () => staller(port, bytes)))));
  }
  return all;
}

/** Half a handshake: the request line and some fields, never the blank line. */
const halfHandshake = (port: number): string => upgradeRequest(port).split('\r\n').slice(0, 4).join('\r\n') + '\r\n';

/** Sends a message and waits for its echo, over and over, counting. */
function echoLoop(conn: WebSocketConnection): { stop(): Promise<{ ok: number; failed: string[] }> } {
  let running = true;
  let ok = 0;
  const failed: string[] = [];
  let answer: ((data: unknown) => void) | null = null;
  conn.onmessage = (data) => answer?.(data);
  void conn.closed.then(() => answer?.('closed'));
  const loop = (async () => {
    for (let i = 0; running && i < 100_000; i++) {
      const text = `echo #${i}`;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const reply = new Promise((resolve) => {
        answer = resolve;
        timer = setTimeout(() => resolve('no echo within 5 s'), 5000);
      });
      conn.send(text);
      const got = await reply;
      clearTimeout(timer);
      if (got === 'stopped') break;
      if (got === text) ok++;
      else failed.push(`${text} -> ${String(got)}`);
      await delay(5);
    }
  })();
  return {
    async stop() {
      running = false;
      answer?.('stopped');
      await loop;
      return { ok, failed };
    },
  };
}

describe('slowloris', () => {
  it('1,000 half-handshakes are all dropped after handshakeTimeout while a normal client echoes throughout', async () => {
    const handshakeTimeout = 2000;
    const rejected: RejectionInfo[] = [];
    const server = await start({ handler: echo, handshakeTimeout, onReject: (info) => rejected.push(info) });
    const client = await connect(server.url, { proxy: false });
    cleanups.push(() => client.abort());
    const loop = echoLoop(client);
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, server.pendingHandshakes)), 5);
    cleanups.push(() => clearInterval(sampler));

    const began = Date.now();
    const stalled = await stallers(server.port, 1000, halfHandshake(server.port));
    const opened = Date.now() - began;

    const newcomer = await connect(server.url, { proxy: false });
    const echoed = new Promise((resolve) => (newcomer.onmessage = resolve));
    newcomer.send('newcomer during the attack');
    expect(await echoed).toBe('newcomer during the attack');
    newcomer.close();
    expect((await newcomer.closed).wasClean).toBe(true);

    await until(() => stalled.every((s) => s.closedAt !== null), 20_000, 'every stalled conn closed');
    const allDropped = Date.now() - began;
    await until(() => server.pendingHandshakes === 0, 5000, 'no pending handshake left');
    const { ok, failed } = await loop.stop();
    clearInterval(sampler);

    const lifetimes = stalled.map((s) => s.closedAt! - s.openedAt);
    expect(Math.min(...lifetimes)).toBeGreaterThanOrEqual(handshakeTimeout * 0.75);
    expect(failed).toEqual([]);
    expect(ok).toBeGreaterThan(10);
    expect(peak).toBeGreaterThanOrEqual(900);
    expect(rejected.length).toBe(1000);
    expect(rejected.every((r) => r.status === 0 && r.code === 'TIMEOUT')).toBe(true);
    expect(server.connections.size).toBe(1);
    console.log(
      `[deno slowloris] 1000 stalled opened in ${opened} ms, peak pending ${peak}, all dropped ${allDropped} ms after the first ` +
        `(lifetime ${Math.min(...lifetimes)}–${Math.max(...lifetimes)} ms, timeout ${handshakeTimeout}), ${ok} echoes ok, 0 failed`,
    );
  }, 40_000);
});

describe('maxPendingHandshakes', () => {
  it('is checked when the server starts', async () => {
    await expect(serve({ maxPendingHandshakes: 0 })).rejects.toThrow(RangeError);
    await expect(serve({ maxBufferedAmount: -1 })).rejects.toThrow(RangeError);
  });

  it('with cap 50, 100 stalled conns evict the 50 oldest (EVICTED), and normal clients still get in', async () => {
    const rejected: RejectionInfo[] = [];
    const server = await start({ handler: echo, handshakeTimeout: 20_000, maxPendingHandshakes: 50, onReject: (info) => rejected.push(info) });
    const stalled: Staller[] = [];
    cleanups.push(() => {
      for (const s of stalled) if (s.closedAt === null) closeQuietly(s.conn);
    });
    for (let i = 0; i < 100; i++) {
      stalled.push(await staller(server.port, halfHandshake(server.port)));
      await until(() => server.pendingHandshakes === Math.min(i + 1, 50) && rejected.length === Math.max(0, i + 1 - 50), 5000, `conn ${i} counted`);
    }
    await until(() => stalled.filter((s) => s.closedAt !== null).length === 50, 5000, '50 evicted');
    expect(stalled.flatMap((s, i) => (s.closedAt !== null ? [i] : []))).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(rejected.every((r) => r.status === 0 && r.code === 'EVICTED')).toBe(true);

    for (let round = 0; round < 5; round++) {
      const conn = await connect(server.url, { proxy: false, handshakeTimeout: 5000 });
      const echoed = new Promise((resolve) => (conn.onmessage = resolve));
      conn.send(`round ${round}`);
      expect(await echoed).toBe(`round ${round}`);
      conn.close();
      await conn.closed;
    }
    await until(() => stalled.filter((s) => s.closedAt !== null).length === 51, 5000, 'one more evicted');
    expect(stalled[50].closedAt).not.toBeNull();
    expect(server.pendingHandshakes).toBe(49);
    for (const s of stalled) if (s.closedAt === null) closeQuietly(s.conn);
    await until(() => server.pendingHandshakes === 0, 5000, 'slots released on close');
  }, 30_000);
});

describe('malformed requests', () => {
  const cases: Array<[string, (port: number) => string, number]> = [
    ['a field line without a colon', (port) => `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade websocket\r\n\r\n`, 400],
    ['binary garbage', () => '\u0000\u0001\u0002 garbage\r\n\r\n', 400],
    ['a bad Sec-WebSocket-Key', (port) => upgradeRequest(port).replace('dGhlIHNhbXBsZSBub25jZQ==', 'short'), 400],
    ['a head over the size limit', (port) => upgradeRequest(port, [`X-Big: ${'x'.repeat(20_000)}`]), 431],
  ];
  for (const [name, request, status] of cases) {
    it(`${name} gets ${status} and the conn is closed; the server keeps serving`, async () => {
      const server = await start({ handler: echo, maxHeadSize: 16 * 1024 });
      const conn = await Deno.connect({ hostname: '127.0.0.1', port: server.port });
      cleanups.push(() => closeQuietly(conn));
      await send(conn, new Uint8Array(Array.from(request(server.port), (c) => c.charCodeAt(0) & 0xff)));
      // all() reads until the server closes the conn.
      const answer = await new RawReader(conn).all();
      expect(answer.split('\r\n')[0]).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      await until(() => server.pendingHandshakes === 0, 5000, 'no pending handshake left');
      const client = await connect(server.url, { proxy: false });
      const echoed = new Promise((resolve) => (client.onmessage = resolve));
      client.send('still serving');
      expect(await echoed).toBe('still serving');
      client.close();
      await client.closed;
    });
  }
});
