// The WHATWG WebSocket and WebSocketStream of @wsflow/deno: the @wsflow/websocket facade over
// this package's client (its own conformance suite lives there). Here: states, events and
// their order, binaryType, the exceptions the standard names, against our own server, and
// what only a shim adds (the options object, WebSocketStream over TCP).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, WebSocket, WebSocketError, WebSocketStream, type WebSocketServer } from '../src/index.ts';

describe('WebSocket (WHATWG) over @wsflow/deno', () => {
  let server: WebSocketServer;

  /** The `X-Token` of each authorized upgrade, in order. */
  const tokens: Array<string | null> = [];

  beforeAll(async () => {
    server = await serve({
      handleProtocols: (offered) => offered[offered.length - 1],
      authorize: ({ headers }) => {
        tokens.push(headers.get('x-token'));
      },
      handler: (conn) => {
        conn.onmessage = (data) => {
          if (data === 'bye') conn.close({ closeCode: 4001, reason: 'server bye' });
          else conn.send(data);
        };
      },
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  function events(ws: WebSocket): Promise<string[]> {
    const log: string[] = [];
    return new Promise((resolve) => {
      ws.onopen = () => log.push(`open ${ws.readyState} ${ws.protocol}`);
      ws.onmessage = (event) => {
        const data = (event as MessageEvent).data;
        log.push(`message ${typeof data === 'string' ? data : data instanceof ArrayBuffer ? `ab${data.byteLength}` : `blob${(data as Blob).size}`}`);
        if (log.length === 3) ws.send('bye');
      };
      ws.onerror = () => log.push('error');
      ws.onclose = (event) => {
        const close = event as CloseEvent;
        log.push(`close ${close.code} ${close.reason} ${close.wasClean} ${ws.readyState}`);
        resolve(log);
      };
    });
  }

  it('opens, exchanges messages and closes, in the standard order', async () => {
    const ws = new WebSocket(server.url, ['a', 'b']);
    expect(ws.readyState).toBe(WebSocket.CONNECTING);
    expect(() => ws.send('too early')).toThrow(DOMException);
    const log = events(ws);
    ws.addEventListener('open', () => {
      ws.binaryType = 'arraybuffer';
      ws.send('text');
      ws.send(new Uint8Array([1, 2, 3]));
    });
    expect(await log).toEqual(['open 1 b', 'message text', 'message ab3', 'close 4001 server bye true 3']);
  });

  it('delivers binary as Blob by default', async () => {
    const ws = new WebSocket(server.url);
    const data = await new Promise<unknown>((resolve) => {
      ws.onopen = () => ws.send(new Uint8Array(5));
      ws.onmessage = (event) => resolve((event as MessageEvent).data);
    });
    expect(data).toBeInstanceOf(Blob);
    expect((data as Blob).size).toBe(5);
    const closed = new Promise<CloseEvent>((resolve) => (ws.onclose = (e) => resolve(e as CloseEvent)));
    ws.close(1000, 'done');
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    const event = await closed;
    expect([event.code, event.reason, event.wasClean]).toEqual([1000, 'done', true]);
  });

  it('throws the DOMExceptions the standard names', () => {
    expect(() => new WebSocket('ftp://example.com/')).toThrow(DOMException);
    expect(() => new WebSocket('ws://example.com/#x')).toThrow(DOMException);
    expect(() => new WebSocket('ws://example.com/', ['a', 'a'])).toThrow(DOMException);
    const ws = new WebSocket(server.url);
    try {
      expect(() => ws.close(1001)).toThrow(DOMException);
      expect(() => ws.close(1000, 'x'.repeat(124))).toThrow(DOMException);
    } finally {
      ws.close();
    }
  });

  it('maps http: to ws:', () => {
    const ws = new WebSocket(`http://127.0.0.1:${server.port}/x`);
    expect(ws.url).toBe(`ws://127.0.0.1:${server.port}/x`);
    ws.close();
  });

  it('reports a failed connection as error, then close 1006', async () => {
    const listener = Deno.listen({ hostname: '127.0.0.1', port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    const log: string[] = [];
    await new Promise<void>((resolve) => {
      ws.onerror = () => log.push('error');
      ws.onclose = (event) => {
        log.push(`close ${(event as CloseEvent).code} ${(event as CloseEvent).wasClean}`);
        resolve();
      };
    });
    expect(log).toEqual(['error', 'close 1006 false']);
  });

  it('closing while connecting fails the connection', async () => {
    const ws = new WebSocket(server.url);
    const closed = new Promise<CloseEvent>((resolve) => (ws.onclose = (e) => resolve(e as CloseEvent)));
    ws.close();
    expect(ws.readyState).toBe(WebSocket.CLOSING);
    expect((await closed).code).toBe(1006);
  });

  it('counts bytes sent after closing in bufferedAmount', async () => {
    const ws = new WebSocket(server.url);
    await new Promise((resolve) => (ws.onopen = resolve));
    const closed = new Promise((resolve) => (ws.onclose = resolve));
    ws.close();
    ws.send('four');
    expect(ws.bufferedAmount).toBeGreaterThanOrEqual(4);
    await closed;
  });

  it('takes Deno options as the second argument: protocols, headers and the rest reach the client', async () => {
    const ws = new WebSocket(server.url, { protocols: ['x', 'y'], headers: { 'X-Token': 'secret' }, proxy: false });
    await new Promise((resolve) => (ws.onopen = resolve));
    expect(ws.protocol).toBe('y');
    expect(tokens.at(-1)).toBe('secret');
    const closed = new Promise((resolve) => (ws.onclose = resolve));
    ws.close();
    await closed;
  });

  it('WebSocketStream opens, exchanges messages and closes cleanly over TCP', async () => {
    const wss = new WebSocketStream(server.url, { protocols: ['p'] });
    const { readable, writable, protocol } = await wss.opened;
    expect(protocol).toBe('p');
    const writer = writable.getWriter();
    const reader = readable.getReader();
    await writer.write('over a stream');
    expect((await reader.read()).value).toBe('over a stream');
    await writer.write(new Uint8Array([7, 8]));
    expect([...((await reader.read()).value as Uint8Array)]).toEqual([7, 8]);
    wss.close({ closeCode: 1000, reason: 'done' });
    expect(await wss.closed).toEqual({ closeCode: 1000, reason: 'done' });
  });

  it('WebSocketStream rejects opened with a WebSocketError when the connection fails', async () => {
    const listener = Deno.listen({ hostname: '127.0.0.1', port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const wss = new WebSocketStream(`ws://127.0.0.1:${port}/`);
    const error = await wss.opened.then(
      () => null,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(WebSocketError);
    await wss.closed.catch(() => {});
  });
});
