// Interop with other implementations: our client against Bun's native server (`Bun.serve`
// with `websocket` handlers), Bun's built-in `WebSocket` client against our server, and
// python-websockets both ways.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { connect, serve, type WebSocketConnection, type WebSocketServer } from '../src/index.ts';
import { Bun, type NativeServer, type NativeServerWebSocket } from './support/bun_test_api.ts';
import { binaryOf, MiB, sameBytes, textOf } from './support/payloads.ts';
import { Inbox, until, within } from './support/wait.ts';
import { PY_PEER } from './peers/py_peer.ts';

const SIZES = [0, 125, 126, 65535, 65536, MiB];
const echo = (conn: WebSocketConnection): void => {
  conn.onmessage = (data) => conn.send(data);
};

describe('our client against Bun.serve (the native server)', () => {
  let native: NativeServer;
  const closes: Array<[number, string]> = [];
  beforeAll(() => {
    native = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch(request, server) {
        const url = new URL(request.url);
        const offered = request.headers.get('sec-websocket-protocol');
        const headers: Record<string, string> = offered?.split(',').map((p) => p.trim()).includes('chat') ? { 'Sec-WebSocket-Protocol': 'chat' } : {};
        if (server.upgrade(request, { headers, data: url.pathname })) return undefined;
        return new Response('not a websocket request', { status: 400 });
      },
      websocket: {
        maxPayloadLength: 64 * MiB,
        perMessageDeflate: false,
        open(ws) {
          if (ws.data === '/close-me') ws.close(4003, 'native bye');
        },
        message(ws, message) {
          ws.send(message);
        },
        close(_ws, code, reason) {
          closes.push([code, reason]);
        },
      },
    });
  });
  afterAll(() => native.stop(true));

  const url = (path = '/'): string => `ws://127.0.0.1:${native.port}${path}`;

  test('messages of every length class come back unchanged, text and binary', async () => {
    const conn = await connect(url(), { proxy: false, maxMessage: 64 * MiB });
    const inbox = new Inbox(conn);
    for (const size of [...SIZES, 16 * MiB]) {
      const bytes = binaryOf(size, size + 5);
      conn.send(bytes);
      expect(sameBytes((await inbox.next(20_000)) as Uint8Array, bytes)).toBe(true);
      if (size > MiB) continue;
      const text = textOf(size);
      conn.send(text);
      expect((await inbox.next()) === text).toBe(true);
    }
    conn.close({ closeCode: 4000, reason: 'our bye' });
    expect(await within(conn.closed, 3000, 'close')).toEqual({ closeCode: 4000, reason: 'our bye', wasClean: true });
    await until(() => closes.some(([code, reason]) => code === 4000 && reason === 'our bye'), 3000, 'native close handler');
  }, 40_000);

  test('the native server selects the offered subprotocol', async () => {
    const conn = await connect(url(), { proxy: false, protocols: ['x', 'chat'] });
    expect(conn.protocol).toBe('chat');
    conn.close();
    await conn.closed;
  });

  test('a close from the native server reaches us with its code and reason', async () => {
    const conn = await connect(url('/close-me'), { proxy: false });
    conn.onmessage = () => {};
    expect(await within(conn.closed, 3000, 'close')).toEqual({ closeCode: 4003, reason: 'native bye', wasClean: true });
  });

  test('the native server answers our Ping', async () => {
    const conn = await connect(url(), { proxy: false });
    const pong = new Promise<Uint8Array>((resolve) => (conn.onpong = resolve));
    conn.ping('native?');
    expect(new TextDecoder().decode(await within(pong, 3000, 'pong'))).toBe('native?');
    conn.close();
    await conn.closed;
  });
});

describe("Bun's built-in WebSocket client against our server", () => {
  let server: WebSocketServer;
  beforeAll(async () => {
    server = await serve({
      handleProtocols: (offered) => (offered.includes('chat') ? 'chat' : null),
      handler: (conn, request) => {
        if (new URL(request.url).pathname === '/close-me') conn.close({ closeCode: 4004, reason: 'server bye' });
        else echo(conn);
      },
    });
  });
  afterAll(() => server.close());

  function open(path = '/', protocols?: string[]): Promise<WebSocket> {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${path}`, protocols);
    ws.binaryType = 'arraybuffer';
    return within(
      new Promise((resolve, reject) => {
        ws.onopen = () => resolve(ws);
        ws.onerror = () => reject(new Error('WebSocket error'));
      }),
      3000,
      'open',
    );
  }

  function next(ws: WebSocket): Promise<string | ArrayBuffer> {
    return within(new Promise((resolve) => (ws.onmessage = (event) => resolve(event.data as string | ArrayBuffer))), 5000, 'message');
  }

  function closed(ws: WebSocket): Promise<CloseEvent> {
    return within(new Promise((resolve) => (ws.onclose = resolve)), 3000, 'close');
  }

  test('text and binary messages come back unchanged', async () => {
    const ws = await open();
    for (const size of SIZES) {
      const bytes = binaryOf(size, size + 9);
      ws.send(bytes);
      expect(sameBytes(new Uint8Array((await next(ws)) as ArrayBuffer), bytes)).toBe(true);
      const text = textOf(size);
      ws.send(text);
      expect((await next(ws)) === text).toBe(true);
    }
    const done = closed(ws);
    ws.close(4000, 'bun client bye');
    const event = await done;
    expect([event.code, event.reason, event.wasClean]).toEqual([4000, 'bun client bye', true]);
  });

  test('our server selects the subprotocol it offers', async () => {
    const ws = await open('/', ['other', 'chat']);
    expect(ws.protocol).toBe('chat');
    const done = closed(ws);
    ws.close();
    await done;
  });

  test("our server's close reaches the client with its code and reason", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/close-me`);
    const event = await closed(ws);
    expect([event.code, event.reason, event.wasClean]).toEqual([4004, 'server bye', true]);
  });
});

const hasPython = Bun.spawnSync(['/usr/bin/python3', '-c', 'import websockets'], { stdout: 'ignore', stderr: 'ignore' }).exitCode === 0;

async function readLine(stream: ReadableStream<Uint8Array>, ms: number): Promise<string> {
  const reader = stream.getReader();
  let text = '';
  try {
    return await within(
      (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return text;
          text += new TextDecoder().decode(value);
          const newline = text.indexOf('\n');
          if (newline >= 0) return text.slice(0, newline);
        }
      })(),
      ms,
      'a line from python',
    );
  } finally {
    reader.releaseLock();
  }
}

describe.skipIf(!hasPython)('python-websockets', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  test('a python client gets every message echoed by our server, pings, and closes with 4000', async () => {
    const server = await serve({ handler: echo });
    cleanups.push(() => server.close());
    const child = Bun.spawn(['/usr/bin/python3', '-c', PY_PEER, 'client', server.url], { stdout: 'pipe', stderr: 'inherit' });
    cleanups.push(() => child.kill());
    const results = JSON.parse(await readLine(child.stdout, 20_000)) as { echo: Array<[string, number, boolean]>; pong: boolean; close: [number, string] };
    expect(results.echo.filter(([, , same]) => !same)).toEqual([]);
    expect(results.echo.length).toBe(SIZES.length * 2);
    expect(results.pong).toBe(true);
    expect(results.close).toEqual([4000, 'py bye']);
    expect(await within(child.exited, 5000, 'python exit')).toBe(0);
  }, 30_000);

  test('our client against a python server: echo, subprotocol, and its close', async () => {
    const child = Bun.spawn(['/usr/bin/python3', '-c', PY_PEER, 'server'], { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit' });
    cleanups.push(() => child.kill());
    const port = Number(/^port (\d+)$/.exec(await readLine(child.stdout, 10_000))?.[1]);
    expect(port).toBeGreaterThan(0);
    const conn = await connect(`ws://127.0.0.1:${port}/`, { proxy: false, protocols: ['chat'] });
    expect(conn.protocol).toBe('chat');
    const inbox = new Inbox(conn);
    for (const size of SIZES) {
      const bytes = binaryOf(size, size + 11);
      conn.send(bytes);
      expect(sameBytes((await inbox.next(10_000)) as Uint8Array, bytes)).toBe(true);
    }
    conn.send('close-me');
    expect(await within(conn.closed, 5000, 'close')).toEqual({ closeCode: 4001, reason: 'py server bye', wasClean: true });
  }, 30_000);
});

// Keep the type import used when the native server's socket type is not otherwise referenced.
export type { NativeServerWebSocket };
