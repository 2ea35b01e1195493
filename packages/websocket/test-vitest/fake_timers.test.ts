/**
 * The test server under Vitest fake timers: delivery and `flush()` use no timer, so
 * tests drive time only for the code under test (reconnects, heartbeats, timeouts).
 * Vitest-only (uses `vi`); the portable suite is in ../test.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TestServer, WebSocket, WebSocketStream } from '../src/index.ts';
import { record, startServer } from '../test/helpers.ts';

/** A client as an application would write one: reconnects 1 s after losing the server. */
class ReconnectingClient {
  readonly log: string[] = [];
  ws: WebSocket;
  #url: string;
  #stopped = false;

  constructor(url: string) {
    this.#url = url;
    this.ws = this.#connect();
  }

  #connect(): WebSocket {
    const ws = new WebSocket(this.#url);
    ws.onopen = () => this.log.push('open');
    ws.onmessage = (event) => this.log.push(`message ${String(event.data)}`);
    ws.onclose = (event) => {
      this.log.push(`close ${event.code}`);
      if (!this.#stopped) setTimeout(() => (this.ws = this.#connect()), 1000);
    };
    return ws;
  }

  stop(): void {
    this.#stopped = true;
    this.ws.close();
  }
}

describe.each([
  ['the default fake timers', undefined],
  ['every timer faked, Date and performance included', { toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'Date', 'performance'] }],
  ['queueMicrotask faked as well', { toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'queueMicrotask'] }],
] as const)('under %s', (_name, config) => {
  beforeEach(() => {
    vi.useFakeTimers(config as Parameters<typeof vi.useFakeTimers>[0]);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('opens, delivers and closes without advancing time, and schedules no timer', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    const log = record(ws);
    const client = await server.nextConnection();
    await server.flush();
    client.send('hello');
    client.send(new Uint8Array([1, 2]));
    await server.flush();
    ws.send('back');
    expect(await client.nextMessage()).toBe('back');
    await client.close(4000, 'done');
    await server.flush();
    expect(log).toEqual(['open(1)', 'message(hello)', 'message(Blob(2))', 'close(4000,"done",true,3)']);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('delivers Blob sends and reads under fake timers', async () => {
    const server = startServer({ echo: true });
    const ws = new WebSocket(server.url);
    ws.binaryType = 'arraybuffer';
    const data: unknown[] = [];
    ws.onmessage = (event) => data.push(Array.from(new Uint8Array(event.data as ArrayBuffer)));
    ws.onopen = () => ws.send(new Blob([new Uint8Array([7, 8])]));
    await server.flush();
    expect(data).toEqual([[7, 8]]);
  });

  it('fails a refused handshake (error, close 1006) without advancing time', async () => {
    const server = startServer({ onhandshake: (h) => h.reject(503) });
    const ws = new WebSocket(server.url);
    const log = record(ws);
    await server.flush();
    expect(log).toEqual(['error(3)', 'close(1006,"",false,3)']);
  });

  it('lets the test drive a reconnect timer of the code under test', async () => {
    const server = startServer();
    const app = new ReconnectingClient(server.url.href);
    const first = await server.nextConnection();
    await server.flush();
    first.drop();
    await server.flush();
    expect(app.log).toEqual(['open', 'close 1006']);
    expect(server.connections).toHaveLength(1);
    vi.advanceTimersByTime(999);
    await server.flush();
    expect(server.connections).toHaveLength(1);
    vi.advanceTimersByTime(1);
    const second = await server.nextConnection();
    second.send('welcome back');
    await server.flush();
    expect(app.log).toEqual(['open', 'close 1006', 'open', 'message welcome back']);
    app.stop();
    await server.flush();
    vi.runAllTimers();
    await server.flush();
    expect(server.connections).toHaveLength(2);
  });

  it('lets the test drive a heartbeat interval', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    let timer: ReturnType<typeof setInterval> | undefined;
    ws.onopen = () => {
      timer = setInterval(() => ws.send('heartbeat'), 30_000);
    };
    ws.onclose = () => clearInterval(timer);
    const client = await server.nextConnection();
    await server.flush();
    vi.advanceTimersByTime(90_000);
    await server.flush();
    expect(client.messages).toEqual(['heartbeat', 'heartbeat', 'heartbeat']);
    ws.close();
    await server.flush();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('holds a handshake behind a fake-timer delay until time advances', async () => {
    const server = startServer({ onhandshake: () => new Promise<void>((resolve) => setTimeout(resolve, 5_000)) });
    const ws = new WebSocket(server.url);
    await server.flush();
    expect(ws.readyState).toBe(WebSocket.CONNECTING);
    await vi.advanceTimersByTimeAsync(5_000);
    await server.flush();
    expect(ws.readyState).toBe(WebSocket.OPEN);
  });

  it('runs a WebSocketStream round trip', async () => {
    const server = startServer({ echo: true });
    const wss = new WebSocketStream(server.url);
    const { readable, writable } = await wss.opened;
    await writable.getWriter().write('round trip');
    expect((await readable.getReader().read()).value).toBe('round trip');
    wss.close({ closeCode: 4000 });
    expect((await wss.closed).closeCode).toBe(4000);
  });

  it('works with globals installed for code under test', async () => {
    const server = new TestServer('ws://fake-timers-global.test/', { echo: true }).install();
    try {
      const G = globalThis as unknown as { WebSocket: typeof WebSocket };
      const ws = new G.WebSocket('ws://fake-timers-global.test/');
      const got: string[] = [];
      ws.onmessage = (event) => got.push(String(event.data));
      ws.onopen = () => setTimeout(() => ws.send('after a second'), 1000);
      await server.flush();
      vi.advanceTimersByTime(1000);
      await server.flush();
      expect(got).toEqual(['after a second']);
    } finally {
      server.dropAll();
    }
  });
});

describe('waits under fake timers', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'Date', 'queueMicrotask'] }));
  afterEach(() => vi.useRealTimers());

  it('a wait still times out on real time, with its message, while the test never advances the clock', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    const client = await server.nextConnection();
    await server.flush();
    expect(ws.readyState).toBe(WebSocket.OPEN);
    await expect(client.nextMessage({ timeout: 30 })).rejects.toThrow(/connection #1: no message within 30 ms \(received so far: none\)/);
    await expect(server.nextConnection({ timeout: 30 })).rejects.toThrow(/no connection within 30 ms/);
  });

  it('a handler that sets its own timer is driven by the fake clock, as in production', async () => {
    const server = startServer({
      handler: (conn) => {
        setTimeout(() => conn.send('tick'), 5000);
      },
    });
    const ws = new WebSocket(server.url);
    const log = record(ws);
    await server.flush();
    expect(log).toEqual(['open(1)']);
    await vi.advanceTimersByTimeAsync(5000);
    await server.flush();
    expect(log).toEqual(['open(1)', 'message(tick)']);
  });
});
