// Hardening of the opening handshake on every runtime (written once, run under Node, Deno
// and Bun through `#shim`): 1,000 slowloris sockets are all dropped by the handshake timeout
// while a normal client connects and echoes throughout; the cap on pending handshakes
// evicts the oldest (reported EVICTED) so a newcomer always gets in; malformed requests get
// their 4xx and the socket is closed. No unhandled rejection or uncaught exception.
import { afterEach, describe, expect, it } from 'vitest';
import { connect, runtime, serve, type RejectionInfo, type WebSocketConnection } from './support/shim.ts';
import { RawPeer, until, upgradeHead } from './support/raw.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Options = NonNullable<Parameters<typeof serve>[0]>;
type Server = Awaited<ReturnType<typeof serve>>;

const echo = (conn: WebSocketConnection): void => {
  conn.onmessage = (data) => conn.send(data);
};

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function start(options: Options): Promise<Server> {
  const server = await serve(options);
  cleanups.push(() => server.close());
  return server;
}

/** A raw socket that sent `bytes` and stalls; `closedAt` is set when the server drops it. */
interface Staller {
  peer: RawPeer;
  openedAt: number;
  closedAt: number | null;
}

async function staller(port: number, bytes: string): Promise<Staller> {
  const peer = await RawPeer.open(port);
  const stalled: Staller = { peer, openedAt: Date.now(), closedAt: null };
  void peer.closed.then(() => (stalled.closedAt = Date.now()));
  peer.write(bytes);
  return stalled;
}

async function stallers(port: number, count: number, bytes: string, batch = 100): Promise<Staller[]> {
  const all: Staller[] = [];
  cleanups.push(() => {
    for (const s of all) if (!s.peer.isClosed) s.peer.close();
  });
  for (let i = 0; i < count; i += batch) {
    all.push(...(await Promise.all(Array.from({ length: Math.min(batch, count - i) }, () => staller(port, bytes)))));
  }
  return all;
}

/** Half a handshake: the request line and some fields, never the blank line. */
const halfHandshake = (port: number): string => upgradeHead('/', `127.0.0.1:${port}`).split('\r\n').slice(0, 4).join('\r\n') + '\r\n';

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

describe(`handshake hardening on ${runtime}: slowloris`, () => {
  it('1,000 half-handshakes are all dropped after handshakeTimeout while a normal client echoes throughout', { timeout: 40_000 }, async () => {
    const handshakeTimeout = 2000;
    const rejected: RejectionInfo[] = [];
    const server = await start({ handler: echo, handshakeTimeout, onReject: (info) => void rejected.push(info) });
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

    await until(() => stalled.every((s) => s.closedAt !== null), 'every stalled socket closed', 20_000);
    const allDropped = Date.now() - began;
    await until(() => server.pendingHandshakes === 0, 'no pending handshake left');
    const { ok, failed } = await loop.stop();
    clearInterval(sampler);

    const lifetimes = stalled.map((s) => s.closedAt! - s.openedAt);
    const codes = new Map<string, number>();
    for (const r of rejected) codes.set(`${r.status} ${r.code}`, (codes.get(`${r.status} ${r.code}`) ?? 0) + 1);
    // Every one dropped by the timeout, not before (slack: the client starts its clock after the server).
    expect([...codes]).toEqual([['0 TIMEOUT', 1000]]);
    expect(Math.min(...lifetimes)).toBeGreaterThanOrEqual(handshakeTimeout * 0.75);
    expect(failed).toEqual([]);
    expect(ok).toBeGreaterThan(10);
    expect(peak).toBeGreaterThanOrEqual(900);
    expect(server.connections.size).toBe(1);
    console.log(
      `[${runtime} slowloris] 1000 stalled opened in ${opened} ms, peak pending ${peak}, all dropped ${allDropped} ms after the first ` +
        `(lifetime ${Math.min(...lifetimes)}–${Math.max(...lifetimes)} ms, timeout ${handshakeTimeout}), ${ok} echoes ok, 0 failed`,
    );
  });
});

describe(`handshake hardening on ${runtime}: maxPendingHandshakes`, () => {
  it('is checked when the server starts', async () => {
    await expect(serve({ maxPendingHandshakes: 1.5 })).rejects.toThrow(RangeError);
    await expect(serve({ bufferedAmountPolicy: 'ignore' as never })).rejects.toThrow(RangeError);
  });

  it('with cap 50, 100 stalled sockets evict the 50 oldest (EVICTED), and normal clients still get in', { timeout: 30_000 }, async () => {
    const rejected: RejectionInfo[] = [];
    const server = await start({ handler: echo, handshakeTimeout: 20_000, maxPendingHandshakes: 50, onReject: (info) => void rejected.push(info) });
    const stalled: Staller[] = [];
    cleanups.push(() => {
      for (const s of stalled) if (!s.peer.isClosed) s.peer.close();
    });
    for (let i = 0; i < 100; i++) {
      stalled.push(await staller(server.port, halfHandshake(server.port)));
      await until(() => server.pendingHandshakes === Math.min(i + 1, 50) && rejected.length === Math.max(0, i + 1 - 50), `socket ${i} counted`);
    }
    await until(() => stalled.filter((s) => s.closedAt !== null).length === 50, '50 evicted');
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
    await until(() => stalled.filter((s) => s.closedAt !== null).length === 51, 'one more evicted');
    expect(stalled[50].closedAt).not.toBeNull();
    expect(server.pendingHandshakes).toBe(49);
    for (const s of stalled) if (!s.peer.isClosed) s.peer.close();
    await until(() => server.pendingHandshakes === 0, 'slots released on close');
  });
});

describe(`handshake hardening on ${runtime}: malformed requests`, () => {
  const cases: Array<[string, (port: number) => string, number]> = [
    ['a field line without a colon', (port) => `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade websocket\r\n\r\n`, 400],
    ['binary garbage', () => '\u0000\u0001\u0002 garbage\r\n\r\n', 400],
    ['a bad Sec-WebSocket-Key', (port) => upgradeHead('/', `127.0.0.1:${port}`).replace('dGhlIHNhbXBsZSBub25jZQ==', 'short'), 400],
    ['no Sec-WebSocket-Version', (port) => upgradeHead('/', `127.0.0.1:${port}`).replace('Sec-WebSocket-Version: 13\r\n', ''), 426],
    ['a head over the size limit', (port) => upgradeHead('/', `127.0.0.1:${port}`, [`X-Big: ${'x'.repeat(20_000)}`]), 431],
  ];
  for (const [name, request, status] of cases) {
    it(`${name} gets ${status} and the socket is closed; the server keeps serving`, async () => {
      const server = await start({ handler: echo, maxHeadSize: 16 * 1024 });
      const peer = await RawPeer.open(server.port);
      cleanups.push(() => peer.close());
      peer.write(request(server.port));
      const head = await peer.head();
      expect(head.split('\r\n')[0]).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
      // The server half-closes after its answer (and drops the socket if the client lingers).
      await until(() => peer.ended || peer.isClosed, 'the server ends the socket');
      await until(() => server.pendingHandshakes === 0, 'no pending handshake left');
      const client = await connect(server.url, { proxy: false });
      const echoed = new Promise((resolve) => (client.onmessage = resolve));
      client.send('still serving');
      expect(await echoed).toBe('still serving');
      client.close();
      await client.closed;
    });
  }
});

describe(`handshake hardening on ${runtime}: shutdown`, () => {
  it('close() drops every handshake under way at once (SHUTTING_DOWN), not at its timeout', { timeout: 30_000 }, async () => {
    const rejected: RejectionInfo[] = [];
    const server = await serve({ handler: echo, handshakeTimeout: 20_000, onReject: (info) => void rejected.push(info) });
    const stalled = await stallers(server.port, 20, halfHandshake(server.port), 20);
    await until(() => server.pendingHandshakes === 20, '20 pending');
    const started = Date.now();
    await server.close();
    await until(() => stalled.every((s) => s.closedAt !== null), 'every stalled socket dropped');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(server.pendingHandshakes).toBe(0);
    expect(rejected.map((r) => `${r.status} ${r.code}`)).toEqual(Array.from({ length: 20 }, () => '0 SHUTTING_DOWN'));
  });
});
