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
