// The WHATWG WebSocket and WebSocketStream of @wsflow/deno: the @wsflow/websocket facade over
// this package's client (its own conformance suite lives there). Here: states, events and
// their order, binaryType, the exceptions the standard names, against our own server, and
// what only a shim adds (the options object, WebSocketStream over TCP).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, WebSocket, WebSocketError, WebSocketStream, type WebSocketServer } from '../src/index.ts';
import { makeCertificates } from './support/certs.ts';

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

// Issue 14: where the facade stood below the runtimes' own WebSocket on the web-platform tests.
describe('WebSocket and WebSocketStream on Deno: the web-platform-tests behaviours of issue 14', () => {
  const servers: WebSocketServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });
  async function start(options: Parameters<typeof serve>[0]): Promise<WebSocketServer> {
    const s = await serve(options);
    servers.push(s);
    return s;
  }
  const opened = (ws: WebSocket): Promise<unknown> => new Promise((resolve) => (ws.onopen = resolve));
  const closedEvent = (ws: WebSocket): Promise<unknown> => new Promise((resolve) => ws.addEventListener('close', resolve, { once: true }));

  it('WebSocket and WebSocketStream are interface objects with the Web IDL shape, not subclasses', () => {
    expect(Object.getPrototypeOf(WebSocket.prototype)).toBe(EventTarget.prototype);
    expect(Object.getPrototypeOf(WebSocket)).toBe(EventTarget);
    expect(Object.getOwnPropertyDescriptor(WebSocket.prototype, 'send')).toMatchObject({ writable: true, enumerable: true, configurable: true });
    expect(Object.getOwnPropertyDescriptor(WebSocket.prototype, 'bufferedAmount')).toMatchObject({ enumerable: true, configurable: true });
    expect(Object.getOwnPropertyDescriptor(WebSocket, 'CLOSING')).toEqual({ value: 2, writable: false, enumerable: true, configurable: false });
    expect(Object.getOwnPropertyDescriptor(WebSocket.prototype, Symbol.toStringTag)).toEqual({ value: 'WebSocket', writable: false, enumerable: false, configurable: true });
    expect(Object.getPrototypeOf(WebSocketStream.prototype)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(WebSocketStream.prototype, 'opened')).toMatchObject({ enumerable: true, configurable: true });
  });

  it('bufferedAmount counts a 65,000-byte text compressed to a few bytes whole, and drops in a later task', async () => {
    const s = await start({
      perMessageDeflate: true,
      handler: (conn) => {
        conn.onmessage = (data) => conn.send(data);
      },
    });
    const ws = new WebSocket(s.url);
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

  it("sends the URL's user info as Basic Authorization", async () => {
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
    const ws = new WebSocket(url.href);
    await closedEvent(ws);
    expect(seen).toEqual([`Basic ${btoa('user:p@ss')}`]);
  });

  it('WebSocketStream holds the server back over wss:// while nothing is read', async () => {
    const certs = await makeCertificates();
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
    const wss = new WebSocketStream(`wss://localhost:${s.port}/`, { ca: [certs.ca], proxy: false } as never);
    const { readable } = await wss.opened;
    // 16 MiB offered; nothing read for a second (more than loopback buffers hold).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(written).toBeLessThan(total);
    const reader = readable.getReader();
    for (let i = 0; i < total; i++) expect((await reader.read()).value).toHaveLength(256 * 1024);
    expect(written).toBe(total);
    wss.close();
    await wss.closed;
  }, 20_000);
});
