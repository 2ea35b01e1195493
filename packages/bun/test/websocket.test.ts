// The WHATWG WebSocket and WebSocketStream of @wsflow/bun: the @wsflow/websocket facade over
// this package's client (its own conformance suite lives there). Here: states, events and
// their order, binaryType, bufferedAmount, the exceptions the standard names, against our
// own server, and what only a shim adds (the options object, WebSocketStream over TCP).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  serve,
  WebSocket as WsflowWebSocket,
  WebSocketError,
  WebSocketStream,
  type WebSocketConnection,
  type WebSocketServer,
} from '../src/index.ts';
import { makeCert } from './support/cert.ts';
import { within } from './support/wait.ts';

/** A port nothing listens on: one a server just stopped listening on. */
async function closedPort(): Promise<number> {
  const server = await serve({});
  const { port } = server;
  await server.close();
  return port;
}

describe('WebSocket (wsflow on Bun)', () => {
  let server: WebSocketServer;
  /** The `X-Token` of each authorized upgrade, in order. */
  const tokens: Array<string | null> = [];

  beforeAll(async () => {
    server = await serve({
      handleProtocols: (offered) => offered[offered.length - 1],
      authorize: ({ headers }) => {
        tokens.push(headers.get('x-token'));
      },
      handler: (conn: WebSocketConnection, request) => {
        const path = new URL(request.url).pathname;
        if (path === '/bye') conn.close({ closeCode: 4005, reason: 'bye from server' });
        else conn.onmessage = (data) => conn.send(data);
      },
    });
  });
  afterAll(() => server.close());

  function open(path = '/', protocols?: string | string[]): Promise<WsflowWebSocket> {
    const ws = new WsflowWebSocket(`ws://127.0.0.1:${server.port}${path}`, protocols);
    return within(
      new Promise((resolve, reject) => {
        ws.onopen = () => resolve(ws);
        ws.onclose = () => reject(new Error('closed before open'));
      }),
      3000,
      'open',
    );
  }

  const nextMessage = (ws: WsflowWebSocket): Promise<MessageEvent> =>
    within(new Promise((resolve) => (ws.onmessage = (event) => resolve(event as MessageEvent))), 3000, 'message');

  test('goes CONNECTING -> OPEN -> CLOSING -> CLOSED with open and close events', async () => {
    const ws = new WsflowWebSocket(`ws://127.0.0.1:${server.port}/`);
    expect(ws.readyState).toBe(WsflowWebSocket.CONNECTING);
    expect(ws.url).toBe(`ws://127.0.0.1:${server.port}/`);
    const events: string[] = [];
    ws.addEventListener('open', () => events.push(`open ${ws.readyState}`));
    await within(new Promise((resolve) => ws.addEventListener('open', resolve)), 3000, 'open');
    ws.close(1000, 'done');
    expect(ws.readyState).toBe(WsflowWebSocket.CLOSING);
    const event = await within(new Promise<CloseEvent>((resolve) => (ws.onclose = (e) => resolve(e as CloseEvent))), 3000, 'close');
    events.push(`close ${ws.readyState}`);
    expect(events).toEqual(['open 1', 'close 3']);
    expect([event.code, event.reason, event.wasClean]).toEqual([1000, 'done', true]);
  });

  test('text comes back as a string; binary as a Blob by default and an ArrayBuffer on request', async () => {
    const ws = await open();
    ws.send('text');
    expect((await nextMessage(ws)).data).toBe('text');
    ws.send(new Uint8Array([1, 2, 3]));
    const blob = (await nextMessage(ws)).data as Blob;
    expect(blob).toBeInstanceOf(Blob);
    expect([...new Uint8Array(await blob.arrayBuffer())]).toEqual([1, 2, 3]);
    ws.binaryType = 'arraybuffer';
    ws.send(new Uint16Array([0x0201]).buffer);
    const buffer = (await nextMessage(ws)).data as ArrayBuffer;
    expect(buffer).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(buffer)]).toEqual([1, 2]);
    ws.send(new Blob(['from a blob']));
    expect((await nextMessage(ws)).data).toBeInstanceOf(ArrayBuffer);
    ws.close();
  });

  test('reports the selected subprotocol', async () => {
    const ws = await open('/', ['a', 'b']);
    expect(ws.protocol).toBe('b');
    expect(ws.extensions).toBe('');
    ws.close();
  });

  test('a close from the server fires close with its code and reason (no error)', async () => {
    const ws = new WsflowWebSocket(`ws://127.0.0.1:${server.port}/bye`);
    let errored = false;
    ws.onerror = () => {
      errored = true;
    };
    const event = await within(new Promise<CloseEvent>((resolve) => (ws.onclose = (e) => resolve(e as CloseEvent))), 3000, 'close');
    expect([event.code, event.reason, event.wasClean, errored]).toEqual([4005, 'bye from server', true, false]);
  });

  test('a refused connection fires error, then close with 1006', async () => {
    const ws = new WsflowWebSocket(`ws://127.0.0.1:${await closedPort()}/`);
    const order: string[] = [];
    ws.onerror = () => order.push('error');
    const event = await within(
      new Promise<CloseEvent>((resolve) => (ws.onclose = (e) => (order.push('close'), resolve(e as CloseEvent)))),
      3000,
      'close',
    );
    expect(order).toEqual(['error', 'close']);
    expect([event.code, event.wasClean]).toEqual([1006, false]);
    expect(ws.readyState).toBe(WsflowWebSocket.CLOSED);
  });

  test('throws the DOMExceptions the standard names', async () => {
    const name = (fn: () => unknown): string => {
      try {
        fn();
        return 'no throw';
      } catch (error) {
        return (error as DOMException).name;
      }
    };
    expect(name(() => new WsflowWebSocket('ftp://example.com/'))).toBe('SyntaxError');
    expect(name(() => new WsflowWebSocket('ws://example.com/#frag'))).toBe('SyntaxError');
    expect(name(() => new WsflowWebSocket('ws://127.0.0.1:1/', ['a', 'a']))).toBe('SyntaxError');
    const connecting = new WsflowWebSocket(`ws://127.0.0.1:${server.port}/`);
    expect(name(() => connecting.send('too early'))).toBe('InvalidStateError');
    expect(name(() => connecting.close(1001))).toBe('InvalidAccessError');
    expect(name(() => connecting.close(1000, 'x'.repeat(124)))).toBe('SyntaxError');
    connecting.close();
    await within(new Promise((resolve) => (connecting.onclose = resolve)), 3000, 'close');
  });

  test('maps http: to ws:', async () => {
    const ws = new WsflowWebSocket(`http://127.0.0.1:${server.port}/`);
    expect(ws.url).toBe(`ws://127.0.0.1:${server.port}/`);
    await within(new Promise((resolve) => (ws.onopen = resolve)), 3000, 'open');
    ws.close();
  });

  test('after close(), send() only counts bytes in bufferedAmount', async () => {
    const ws = await open();
    ws.close();
    ws.send('12345');
    expect(ws.bufferedAmount).toBeGreaterThanOrEqual(5);
  });

  test('takes Bun options as the second argument: protocols, headers and the rest reach the client', async () => {
    const ws = new WsflowWebSocket(`ws://127.0.0.1:${server.port}/`, { protocols: ['x', 'y'], headers: { 'X-Token': 'secret' }, proxy: false });
    await within(new Promise((resolve) => (ws.onopen = resolve)), 3000, 'open');
    expect(ws.protocol).toBe('y');
    expect(tokens.at(-1)).toBe('secret');
    ws.close();
  });

  test('WebSocketStream opens, exchanges messages and closes cleanly over TCP', async () => {
    const wss = new WebSocketStream(`ws://127.0.0.1:${server.port}/`, { protocols: ['p'] });
    const { readable, writable, protocol } = await within(wss.opened, 3000, 'opened');
    expect(protocol).toBe('p');
    const writer = writable.getWriter();
    const reader = readable.getReader();
    await writer.write('over a stream');
    expect((await within(reader.read(), 3000, 'read')).value).toBe('over a stream');
    await writer.write(new Uint8Array([7, 8]));
    expect([...((await within(reader.read(), 3000, 'read')).value as Uint8Array)]).toEqual([7, 8]);
    wss.close({ closeCode: 1000, reason: 'done' });
    expect(await within(wss.closed, 3000, 'closed')).toEqual({ closeCode: 1000, reason: 'done' });
  });

  test('WebSocketStream rejects opened with a WebSocketError when the connection fails', async () => {
    const wss = new WebSocketStream(`ws://127.0.0.1:${await closedPort()}/`);
    const error = await within(
      wss.opened.then(
        () => null,
        (reason: unknown) => reason,
      ),
      3000,
      'opened',
    );
    expect(error).toBeInstanceOf(WebSocketError);
    await wss.closed.catch(() => {});
  });
});

// Issue 14: where the facade stood below the runtimes' own WebSocket on the web-platform tests.
describe('WebSocket and WebSocketStream on Bun: the web-platform-tests behaviours of issue 14', () => {
  const servers: WebSocketServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });
  async function start(options: Parameters<typeof serve>[0]): Promise<WebSocketServer> {
    const s = await serve(options);
    servers.push(s);
    return s;
  }
  const opened = (ws: WsflowWebSocket): Promise<unknown> => new Promise((resolve) => (ws.onopen = resolve));
  const closedEvent = (ws: WsflowWebSocket): Promise<unknown> => new Promise((resolve) => ws.addEventListener('close', resolve, { once: true }));

  test('WebSocket and WebSocketStream are interface objects with the Web IDL shape, not subclasses', () => {
    expect(Object.getPrototypeOf(WsflowWebSocket.prototype)).toBe(EventTarget.prototype);
    expect(Object.getPrototypeOf(WsflowWebSocket)).toBe(EventTarget);
    expect(Object.getOwnPropertyDescriptor(WsflowWebSocket.prototype, 'send')).toMatchObject({ writable: true, enumerable: true, configurable: true });
    expect(Object.getOwnPropertyDescriptor(WsflowWebSocket.prototype, 'bufferedAmount')).toMatchObject({ enumerable: true, configurable: true });
    expect(Object.getOwnPropertyDescriptor(WsflowWebSocket, 'CLOSING')).toEqual({ value: 2, writable: false, enumerable: true, configurable: false });
    expect(Object.getOwnPropertyDescriptor(WsflowWebSocket.prototype, Symbol.toStringTag)).toEqual({ value: 'WebSocket', writable: false, enumerable: false, configurable: true });
    expect(Object.getPrototypeOf(WebSocketStream.prototype)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(WebSocketStream.prototype, 'opened')).toMatchObject({ enumerable: true, configurable: true });
  });

  test('bufferedAmount counts a 65,000-byte text compressed to a few bytes whole, and drops in a later task', async () => {
    const s = await start({
      perMessageDeflate: true,
      handler: (conn) => {
        conn.onmessage = (data) => conn.send(data);
      },
    });
    const ws = new WsflowWebSocket(s.url);
    await opened(ws);
    expect(ws.extensions).toContain('permessage-deflate');
    const echoed = new Promise<MessageEvent>((resolve) => (ws.onmessage = (event) => resolve(event as MessageEvent)));
    ws.send('a'.repeat(65_000));
    // The frame on the wire is under 100 bytes, and the socket may have taken it at once.
    expect(ws.bufferedAmount).toBe(65_000);
    await Promise.resolve();
    expect(ws.bufferedAmount).toBe(65_000);
    expect(((await echoed).data as string).length).toBe(65_000);
    expect(ws.bufferedAmount).toBe(0);
    const closed = closedEvent(ws);
    ws.close();
    await closed;
  });

  test("sends the URL's user info as Basic Authorization", async () => {
    const seen: Array<string | null> = [];
    const s = await start({
      handler: (conn, request) => {
        seen.push(request.headers.get('authorization'));
        conn.close();
      },
    });
    const url = new URL(s.url);
    url.username = 'user';
    url.password = 'p%40ss';
    const ws = new WsflowWebSocket(url.href);
    await closedEvent(ws);
    expect(seen).toEqual([`Basic ${btoa('user:p@ss')}`]);
  });

  test('WebSocketStream holds the server back over wss:// while nothing is read', async () => {
    const certs = makeCert();
    const total = 64;
    let written = 0;
    const s = await start({
      tls: { cert: certs.cert, key: certs.key },
      handler: (conn) => {
        void (async () => {
          const writer = conn.writable.getWriter();
          const chunk = new Uint8Array(256 * 1024);
          for (let i = 0; i < total; i++) {
            await writer.write(chunk);
            written++;
          }
        })().catch(() => {});
      },
    });
    const wss = new WebSocketStream(`wss://localhost:${s.port}/`, { ca: certs.cert, proxy: false } as never);
    const { readable } = await wss.opened;
    // 16 MiB offered; nothing read for a second (more than loopback buffers hold).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(written).toBeLessThan(total);
    const reader = readable.getReader();
    for (let i = 0; i < total; i++) expect((await reader.read()).value).toHaveLength(256 * 1024);
    expect(written).toBe(total);
    wss.close();
    await wss.closed;
    certs.dispose();
  }, 20_000);
});
