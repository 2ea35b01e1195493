// Hardening of the opening handshake on Node: 1,000 slowloris connections are all dropped by
// the handshake timeout while a normal client connects and echoes throughout; the cap on
// pending handshakes evicts the oldest so a newcomer always gets in; malformed requests get
// their 4xx and the socket is closed. No unhandled rejection or uncaught exception.
import { createServer, type Server } from 'node:http';
import { connect as tcpConnect, type AddressInfo, type Socket } from 'node:net';
import { describe, expect, test } from 'vitest';
import type { WebSocketConnection } from '@wsflow/codec';
import { attach, connect, serve, type NodeRejectionInfo, type RejectionInfo, type ServeOptions, type WebSocketServer } from '../src/index.ts';
import { delay, guardEachTest, until } from './support/guarded.ts';
import { RawClient, upgradeRequest } from './support/raw.ts';

const cleanups = guardEachTest();
const echo = (conn: WebSocketConnection): void => {
  conn.onmessage = (data) => conn.send(data);
};

async function start(options: ServeOptions): Promise<WebSocketServer> {
  const server = await serve(options);
  cleanups.push(() => server.close());
  return server;
}

/** A raw TCP client that sends `bytes` and stalls; `closedAt` is set when the server drops it. */
interface Staller {
  socket: Socket;
  openedAt: number;
  closedAt: number | null;
}

function staller(port: number, bytes: string): Promise<Staller> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect(port, '127.0.0.1');
    const stalled: Staller = { socket, openedAt: 0, closedAt: null };
    socket.on('error', () => {});
    // Reads (and ignores) whatever the server answers, so its FIN is seen.
    socket.resume();
    socket.once('close', () => (stalled.closedAt = Date.now()));
    socket.once('connect', () => {
      stalled.openedAt = Date.now();
      socket.write(bytes);
      resolve(stalled);
    });
    socket.once('error', reject);
  });
}

/** Opens `count` stallers, `batch` at a time (the listen backlog is finite). */
async function stallers(port: number, count: number, bytes: string, batch = 100): Promise<Staller[]> {
  const all: Staller[] = [];
  cleanups.push(() => {
    for (const s of all) s.socket.destroy();
  });
  for (let i = 0; i < count; i += batch) {
    all.push(...(await Promise.all(Array.from({ length: Math.min(batch, count - i) }, () => staller(port, bytes)))));
  }
  return all;
}

/** Half a handshake: the request line and some fields, never the blank line. */
const halfHandshake = (port: number): string => upgradeRequest('/', `127.0.0.1:${port}`).split('\r\n').slice(0, 4).join('\r\n') + '\r\n';

/** A client of ours that sends a message and waits for its echo, over and over, counting. */
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
  test('1,000 half-handshakes are all dropped after handshakeTimeout while a normal client echoes throughout', async () => {
    const handshakeTimeout = 2000;
    const server = await start({ handler: echo, handshakeTimeout });
    const client = await connect(server.url, { proxy: false });
    cleanups.push(() => client.abort());
    const loop = echoLoop(client);
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, server.pendingHandshakes)), 5);
    cleanups.push(() => clearInterval(sampler));

    const began = Date.now();
    const stalled = await stallers(server.port, 1000, halfHandshake(server.port));
    const opened = Date.now() - began;

    // While they are all pending, a newcomer still connects and echoes.
    const newcomer = await connect(server.url, { proxy: false });
    const echoed = new Promise((resolve) => (newcomer.onmessage = resolve));
    newcomer.send('newcomer during the attack');
    expect(await echoed).toBe('newcomer during the attack');
    newcomer.close();
    expect((await newcomer.closed).wasClean).toBe(true);

    await until(() => stalled.every((s) => s.closedAt !== null), 20_000, 'every stalled socket closed');
    const allDropped = Date.now() - began;
    await until(() => server.pendingHandshakes === 0, 5000, 'no pending handshake left');
    const { ok, failed } = await loop.stop();
    clearInterval(sampler);

    const lifetimes = stalled.map((s) => s.closedAt! - s.openedAt);
    // Dropped by the timeout, not before (slack: the client starts its clock after the server).
    expect(Math.min(...lifetimes)).toBeGreaterThanOrEqual(handshakeTimeout * 0.75);
    expect(failed).toEqual([]);
    expect(ok).toBeGreaterThan(10);
    expect(peak).toBeGreaterThanOrEqual(900);
    expect(server.connections.size).toBe(1);
    console.log(
      `[node slowloris] 1000 stalled opened in ${opened} ms, peak pending ${peak}, all dropped ${allDropped} ms after the first ` +
        `(lifetime ${Math.min(...lifetimes)}–${Math.max(...lifetimes)} ms, timeout ${handshakeTimeout}), ${ok} echoes ok, 0 failed`,
    );
  }, 40_000);
});

describe('maxPendingHandshakes', () => {
  test('defaults to 1024 and is checked when the server starts', async () => {
    await expect(serve({ maxPendingHandshakes: 0 })).rejects.toThrow(RangeError);
    const server = await start({ handler: echo });
    expect(server.pendingHandshakes).toBe(0);
    expect(server.pendingHandshakes).toBe(0);
  });

  test('with cap 50, 100 stalled sockets evict the 50 oldest, and normal clients still get in', async () => {
    const server = await start({ handler: echo, handshakeTimeout: 20_000, maxPendingHandshakes: 50 });
    const stalled: Staller[] = [];
    cleanups.push(() => {
      for (const s of stalled) s.socket.destroy();
    });
    // One at a time, each counted before the next, so accept order is open order.
    for (let i = 0; i < 100; i++) {
      stalled.push(await staller(server.port, halfHandshake(server.port)));
      await until(() => server.pendingHandshakes === Math.min(i + 1, 50), 5000, `socket ${i} counted`);
    }
    await until(() => stalled.filter((s) => s.closedAt !== null).length === 50, 5000, '50 evicted');
    const evicted = stalled.flatMap((s, i) => (s.closedAt !== null ? [i] : []));
    expect(evicted).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(server.pendingHandshakes).toBe(50);

    for (let round = 0; round < 5; round++) {
      const conn = await connect(server.url, { proxy: false, handshakeTimeout: 5000 });
      const echoed = new Promise((resolve) => (conn.onmessage = resolve));
      conn.send(`round ${round}`);
      expect(await echoed).toBe(`round ${round}`);
      conn.close();
      await conn.closed;
    }
    // The first newcomer took the slot of the oldest stalled socket; its 101 freed a slot
    // that each later newcomer took and gave back in turn.
    await until(() => stalled.filter((s) => s.closedAt !== null).length === 51, 5000, 'one more evicted');
    expect(stalled[50].closedAt).not.toBeNull();
    expect(server.pendingHandshakes).toBe(49);
    for (const s of stalled) s.socket.destroy();
    await until(() => server.pendingHandshakes === 0, 5000, 'slots released on close');
  });

  test('attach counts upgrade requests: handshakes stalled in authorize are evicted and reported EVICTED', async () => {
    const http: Server = createServer((_, response) => response.end('plain'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => {
      http.closeAllConnections();
      http.close(() => resolve());
    }));
    const port = (http.address() as AddressInfo).port;
    const rejected: NodeRejectionInfo[] = [];
    const endpoint = attach(http, {
      maxPendingHandshakes: 3,
      handshakeTimeout: 3000,
      handler: echo,
      onReject: (info) => rejected.push(info),
      authorize: ({ headers }) => (headers.has('x-stall') ? new Promise(() => {}) : undefined),
    });
    cleanups.push(() => endpoint.close());
    const clients: RawClient[] = [];
    cleanups.push(() => {
      for (const c of clients) c.socket.destroy();
    });
    for (let i = 0; i < 5; i++) {
      const client = await RawClient.open(port);
      clients.push(client);
      client.socket.write(upgradeRequest('/', `127.0.0.1:${port}`, { 'X-Stall': '1' }));
      await until(() => endpoint.pendingHandshakes === Math.min(i + 1, 3), 5000, `upgrade ${i} counted`);
    }
    await Promise.all([clients[0].closed, clients[1].closed]);
    expect(rejected.map((r) => [r.status, r.code])).toEqual([
      [0, 'EVICTED'],
      [0, 'EVICTED'],
    ]);
    expect(clients[0].received.length).toBe(0);
    const conn = await connect(`ws://127.0.0.1:${port}/`, { proxy: false });
    const echoed = new Promise((resolve) => (conn.onmessage = resolve));
    conn.send('through');
    expect(await echoed).toBe('through');
    conn.close();
    await conn.closed;
    expect(rejected.filter((r) => r.code === 'EVICTED')).toHaveLength(3);
    expect(endpoint.pendingHandshakes).toBe(2);
    // The two still stalled run out of time (Node does not read an upgrade's socket before
    // the 101, so a peer leaving then is noticed by the timeout): their slots are released.
    await until(() => endpoint.pendingHandshakes === 0, 10_000, 'slots released');
    await until(() => rejected.length === 5, 5000, 'all reported');
    expect(rejected.slice(3).map((r) => [r.status, r.code])).toEqual([
      [0, 'TIMEOUT'],
      [0, 'TIMEOUT'],
    ]);
    await Promise.all([clients[3].closed, clients[4].closed]);
  });
});

describe('malformed requests', () => {
  test.each([
    ['a field line without a colon', (port: number) => `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade websocket\r\n\r\n`, 400],
    ['binary garbage', () => '\u0000\u0001\u0002\u00ff garbage\r\n\r\n', 400],
    ['a bad Sec-WebSocket-Key', (port: number) => upgradeRequest('/', `127.0.0.1:${port}`, { 'Sec-WebSocket-Key': 'short' }), 400],
    ['no Sec-WebSocket-Version', (port: number) => upgradeRequest('/', `127.0.0.1:${port}`, { 'Sec-WebSocket-Version': null }), 426],
    ['a head over the size limit', (port: number) => upgradeRequest('/', `127.0.0.1:${port}`, { 'X-Big': 'x'.repeat(20_000) }), 431],
  ])('%s gets %s and the socket is closed; the server keeps serving', async (_name, request, status) => {
    const server = await start({ handler: echo });
    const client = await RawClient.open(server.port);
    cleanups.push(() => client.socket.destroy());
    client.socket.write(request(server.port), 'latin1');
    const head = await client.head();
    expect(head.split('\r\n')[0]).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    await Promise.race([client.closed, delay(5000).then(() => Promise.reject(new Error('socket left open')))]);
    await until(() => server.pendingHandshakes === 0, 5000, 'no pending handshake left');
    const conn = await connect(server.url, { proxy: false });
    const echoed = new Promise((resolve) => (conn.onmessage = resolve));
    conn.send('still serving');
    expect(await echoed).toBe('still serving');
    conn.close();
    await conn.closed;
  });
});
