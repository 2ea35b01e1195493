/**
 * The in-memory test server: addressing, handshake control, connections and messages,
 * raw frames, closing and dropping, globals, networks, and flush().
 */
import { acceptKey, createDuplexPair, decodeUtf8, encodeUtf8 } from '@wsflow/codec';
import { describe, expect, it } from 'vitest';
import { MemoryNetwork, TestServer, WebSocket, WebSocketError, WebSocketStream, createWebSocketClass, type TestHandshake } from '../src/index.ts';
import { blobBytes, nextEvent, record, rejection, startServer, uniqueUrl } from './helpers.ts';

describe('TestServer: addressing', () => {
  it('listens on a URL; a query in the client URL still reaches it and is visible', async () => {
    const server = startServer({}, 'ws://address.test/chat');
    new WebSocket('ws://address.test/chat?room=7');
    const client = await server.nextConnection();
    expect(client.url.href).toBe('ws://address.test/chat?room=7');
    expect(new URL(client.request.url).search).toBe('?room=7');
    expect(client.headers.get('host')).toBe('address.test');
  });

  it('maps an http: URL to ws: and an https: URL to wss:', () => {
    const a = startServer({}, 'http://map.test/a');
    const b = startServer({}, 'https://map.test/a');
    expect(a.url.href).toBe('ws://map.test/a');
    expect(b.url.href).toBe('wss://map.test/a');
  });

  it('refuses a second server on the same URL, and takes it once the first stopped', () => {
    const url = uniqueUrl();
    const first = startServer({}, url);
    expect(() => new TestServer(url)).toThrow(/already listens/);
    first.stop();
    startServer({}, url);
  });

  it('refuses other schemes', () => {
    expect(() => new TestServer('ftp://x.test/')).toThrow(TypeError);
  });

  it('keeps different paths, ports and schemes apart', async () => {
    const a = startServer({}, 'ws://apart.test/a');
    const b = startServer({}, 'ws://apart.test/b');
    const c = startServer({}, 'ws://apart.test:8080/a');
    const d = startServer({}, 'wss://apart.test/a');
    for (const url of ['ws://apart.test/b', 'wss://apart.test/a', 'ws://apart.test:8080/a', 'ws://apart.test/a']) new WebSocket(url);
    await a.flush();
    expect([a, b, c, d].map((s) => s.connections.length)).toEqual([1, 1, 1, 1]);
  });

  it('refuses connections once stopped: the client fails, open ones stay', async () => {
    const server = startServer();
    const before = new WebSocket(server.url);
    await server.nextConnection();
    await nextEvent(before, 'open');
    server.stop();
    expect(server.listening).toBe(false);
    const after = new WebSocket(server.url);
    const log = record(after);
    await server.flush();
    expect(log).toEqual(['error(3)', 'close(1006,"",false,3)']);
    expect(before.readyState).toBe(WebSocket.OPEN);
    await expect(server.nextConnection()).rejects.toThrow(/stopped/);
  });
});

describe('TestServer: handshakes', () => {
  it('accepts by itself and, as serve(), selects no protocol without handleProtocols (a client that offered some then fails, as browsers do)', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url, ['first', 'second']);
    const log = record(ws);
    await server.flush();
    expect(server.connections[0]!.protocol).toBe('');
    expect(log).toEqual(['error(3)', 'close(1006,"",false,3)']);
  });

  it('selects with handleProtocols, called as serve() calls it (the offer and the Request)', async () => {
    const seen: string[] = [];
    const server = startServer({
      handleProtocols: (offered, request) => {
        seen.push(new URL(request.url).protocol);
        return offered.at(-1);
      },
    });
    const ws = new WebSocket(server.url, ['first', 'second']);
    await nextEvent(ws, 'open');
    expect(ws.protocol).toBe('second');
    expect(seen).toEqual(['http:']);
  });

  it('takes protocols or handleProtocols, not both', () => {
    expect(() => new TestServer(uniqueUrl(), { protocols: ['a'], handleProtocols: () => 'a' })).toThrow(/not both/);
  });

  it('selects the client’s first protocol among those it supports', async () => {
    const server = startServer({ protocols: ['v1', 'v2'] });
    const ws = new WebSocket(server.url, ['v3', 'v2', 'v1']);
    await nextEvent(ws, 'open');
    expect(ws.protocol).toBe('v2');
  });

  it('selects with a function', async () => {
    const server = startServer({ protocols: (offered) => offered[offered.length - 1] });
    const ws = new WebSocket(server.url, ['a', 'b', 'c']);
    await nextEvent(ws, 'open');
    expect(ws.protocol).toBe('c');
  });

  it('waits for accept(), with the choice of protocol, when autoAccept is false', async () => {
    const server = startServer({ autoAccept: false });
    const ws = new WebSocket(server.url, ['x', 'y']);
    const handshake = await server.nextHandshake();
    expect(handshake.state).toBe('pending');
    expect(handshake.protocols).toEqual(['x', 'y']);
    expect(handshake.request.method).toBe('GET');
    expect(handshake.headers.get('sec-websocket-version')).toBe('13');
    await server.flush();
    expect(ws.readyState).toBe(WebSocket.CONNECTING);
    const client = await handshake.accept({ protocol: 'y' });
    expect(handshake.state).toBe('accepted');
    await nextEvent(ws, 'open');
    expect(ws.protocol).toBe('y');
    expect(client.protocol).toBe('y');
  });

  it('accepts with no protocol when told so', async () => {
    const server = startServer({ autoAccept: false });
    new WebSocket(server.url);
    const client = await (await server.nextHandshake()).accept({ protocol: null });
    expect(client.protocol).toBe('');
  });

  it('refuses to answer a handshake twice', async () => {
    const server = startServer({ autoAccept: false });
    new WebSocket(server.url);
    const handshake = await server.nextHandshake();
    handshake.reject(400);
    expect(() => handshake.reject(400)).toThrow(/already rejected/);
    await expect(handshake.accept()).rejects.toThrow(/already rejected/);
  });

  it('delays the handshake until the onhandshake promise resolves', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const server = startServer({ onhandshake: () => gate });
    const ws = new WebSocket(server.url);
    await server.flush();
    expect(ws.readyState).toBe(WebSocket.CONNECTING);
    expect(server.handshakes).toHaveLength(1);
    release();
    await nextEvent(ws, 'open');
    expect(ws.readyState).toBe(WebSocket.OPEN);
  });

  it('rejects with a status, headers and body (the client only sees a failure)', async () => {
    const seen: TestHandshake[] = [];
    const server = startServer({
      onhandshake: (h) => {
        seen.push(h);
        h.reject(429, { headers: { 'Retry-After': '1' }, body: 'slow down' });
      },
    });
    const ws = new WebSocket(server.url);
    const log = record(ws);
    await server.flush();
    expect(seen[0]!.state).toBe('rejected');
    expect(log).toEqual(['error(3)', 'close(1006,"",false,3)']);
    expect(server.connections).toEqual([]);
  });

  it('can decide from the request: path, query, headers, origin', async () => {
    const server = startServer({
      onhandshake: (h) => {
        if (h.url.searchParams.get('token') !== 'secret') h.reject(401);
      },
    });
    const WS = createWebSocketClass({ dialer: server.network.dialer, baseURL: 'https://page.test/' });
    const good = new WS(`${server.url.href}?token=secret`);
    const bad = new WS(`${server.url.href}?token=wrong`);
    const goodLog = record(good);
    const badLog = record(bad);
    await server.flush();
    expect(goodLog).toEqual(['open(1)']);
    expect(badLog).toEqual(['error(3)', 'close(1006,"",false,3)']);
    expect(server.handshakes.map((h) => h.origin)).toEqual(['https://page.test', 'https://page.test']);
  });

  it('answers with raw bytes, e.g. a valid 101 by hand', async () => {
    const server = startServer({ autoAccept: false });
    const ws = new WebSocket(server.url);
    const log = record(ws);
    const h = await server.nextHandshake();
    // The test's own Web Crypto work is its to await: flush() does not wait for it.
    const accept = await acceptKey(h.headers.get('sec-websocket-key')!);
    h.respondRaw(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n\x81\x02hi`);
    await server.flush();
    // The frame after the head arrives, then the connection ends without a Close: 1006.
    expect(log).toEqual(['open(1)', 'message(hi)', 'error(3)', 'close(1006,"",false,3)']);
  });

  it('lists every handshake in order and hands them out with nextHandshake()', async () => {
    const server = startServer({ autoAccept: false });
    new WebSocket(server.url, 'one');
    new WebSocket(server.url, 'two');
    const first = await server.nextHandshake();
    const second = await server.nextHandshake();
    expect([first.protocols[0], second.protocols[0]].sort()).toEqual(['one', 'two']);
    expect(server.handshakes).toEqual([first, second]);
  });
});

describe('TestServer: connections and messages', () => {
  it('lists connections, hands them out in order, and resolves connected with the first', async () => {
    const server = startServer({ protocols: ['a', 'b'] });
    const connected = server.connected;
    new WebSocket(server.url, 'a');
    new WebSocket(server.url, 'b');
    const first = await server.nextConnection();
    const second = await server.nextConnection();
    expect(await connected).toBe(first);
    expect(await server.connected).toBe(first);
    expect(server.connections).toEqual([first, second]);
    // In the order the handshakes completed (each hashes its key with Web Crypto).
    expect([first.protocol, second.protocol].sort()).toEqual(['a', 'b']);
    expect(server.openConnections).toHaveLength(2);
  });

  it('records messages per connection and for the server, with cursors', async () => {
    const server = startServer({ protocols: ['a', 'b'] });
    const a = new WebSocket(server.url, 'a');
    const b = new WebSocket(server.url, 'b');
    await Promise.all([nextEvent(a, 'open'), nextEvent(b, 'open')]);
    a.send('a1');
    b.send('b1');
    a.send(new Uint8Array([7]));
    await server.flush();
    const ca = server.connections.find((c) => c.protocol === 'a');
    const cb = server.connections.find((c) => c.protocol === 'b');
    expect(ca!.messages).toEqual(['a1', new Uint8Array([7])]);
    expect(cb!.messages).toEqual(['b1']);
    // In arrival order across the connections.
    expect(server.messages).toHaveLength(3);
    expect(server.messages).toEqual(expect.arrayContaining(['a1', 'b1', new Uint8Array([7])]));
    const firstTwo = [await server.nextMessage(), await server.nextMessage()];
    expect(firstTwo).toEqual(server.messages.slice(0, 2));
    expect(await ca!.nextMessage()).toBe('a1');
    // Waits for one that has not arrived yet.
    expect(await cb!.nextMessage()).toBe('b1');
    const waiting = cb!.nextMessage();
    b.send('b2');
    expect(await waiting).toBe('b2');
  });

  it('rejects nextMessage() when the connection closes first', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    const client = await server.nextConnection();
    await nextEvent(ws, 'open');
    const waiting = client.nextMessage();
    ws.close(4000);
    expect(String(await rejection(waiting))).toMatch(/closed \(4000\)/);
    expect(String(await rejection(client.nextMessage()))).toMatch(/closed/);
  });

  it('sends text, bytes, ArrayBuffers and Blobs', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    ws.binaryType = 'arraybuffer';
    const client = await server.nextConnection();
    const data: unknown[] = [];
    ws.onmessage = (event) => data.push(event.data instanceof ArrayBuffer ? Array.from(new Uint8Array(event.data)) : event.data);
    client.send('text');
    client.send(new Uint8Array([1, 2]));
    client.send(new Uint16Array([0x0201]).buffer);
    client.send(new Blob([new Uint8Array([5, 6])]));
    await server.flush();
    expect(data).toEqual(['text', [1, 2], [1, 2], [5, 6]]);
  });

  it('keeps the order of what follows a Blob being read, the Close included', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    const log = record(ws);
    const client = await server.nextConnection();
    client.send(new Blob(['blob']));
    client.send('after');
    client.sendRaw('\x81\x03raw');
    client.ping('p');
    void client.close(4000, 'last');
    expect(() => client.send('too late')).toThrow(/closing/);
    await server.flush();
    expect(log).toEqual(['open(1)', 'message(Blob(4))', 'message(after)', 'message(raw)', 'close(4000,"last",true,3)']);
    expect(client.pongs).toHaveLength(1);
  });

  it('broadcasts with server.send() to the open connections', async () => {
    const server = startServer();
    const sockets = [new WebSocket(server.url), new WebSocket(server.url), new WebSocket(server.url)];
    const received: string[] = [];
    sockets.forEach((ws, i) => (ws.onmessage = (event) => received.push(`${i}:${event.data}`)));
    await server.flush();
    sockets[2]!.close();
    await server.flush();
    expect(server.send('all')).toBe(2);
    await server.flush();
    expect(received.sort()).toEqual(['0:all', '1:all']);
  });

  it('echoes with the echo option', async () => {
    const server = startServer({ echo: true });
    const ws = new WebSocket(server.url);
    ws.onopen = () => ws.send('ping?');
    const event = await nextEvent<MessageEvent>(ws, 'message');
    expect(event.data).toBe('ping?');
  });

  it('answers with onmessage on a connection', async () => {
    const server = startServer({
      onconnection: (client) => {
        client.onmessage = (message, from) => from.send(`you said ${String(message)}`);
      },
    });
    const ws = new WebSocket(server.url);
    ws.onopen = () => ws.send('hi');
    expect((await nextEvent<MessageEvent>(ws, 'message')).data).toBe('you said hi');
  });

  it('refuses to send on a closed connection', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    const client = await server.nextConnection();
    ws.close();
    await server.flush();
    expect(client.state).toBe('closed');
    expect(() => client.send('late')).toThrow(/closed/);
  });
});

describe('TestServer: frames, pings, closing and dropping', () => {
  it('pings the client and records its Pong', async () => {
    const server = startServer();
    new WebSocket(server.url);
    const client = await server.nextConnection();
    client.ping('are you there');
    await server.flush();
    expect(client.pongs.map((p) => new TextDecoder().decode(p))).toEqual(['are you there']);
  });

  it('sends a frame with a reserved opcode: the client fails with 1002', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    const log = record(ws);
    const client = await server.nextConnection();
    client.sendFrame({ opcode: 0x7, payload: 'x' });
    await server.flush();
    expect(log).toEqual(['open(1)', 'error(3)', 'close(1006,"",false,3)']);
    expect(client.closeInfo?.closeCode).toBe(1002);
  });

  it('writes raw bytes in order with the connection’s frames', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    const log = record(ws);
    const client = await server.nextConnection();
    client.send('a');
    client.sendRaw(new Uint8Array([0x81, 0x01, 0x62])); // "b"
    client.send('c');
    client.sendRaw('\x81\x01d');
    await server.flush();
    expect(log).toEqual(['open(1)', 'message(a)', 'message(b)', 'message(c)', 'message(d)']);
  });

  it('closes with a code and reason', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    const log = record(ws);
    const client = await server.nextConnection();
    expect(await client.close(4444, 'over')).toEqual({ closeCode: 4444, reason: 'over', wasClean: true });
    await server.flush();
    expect(log).toEqual(['open(1)', 'close(4444,"over",true,3)']);
    expect(client.state).toBe('closed');
  });

  it('refuses a close code that may not be sent, which sendFrame can send', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    const log = record(ws);
    const client = await server.nextConnection();
    expect(() => client.close(1006)).toThrow(RangeError);
    client.sendFrame({ opcode: 0x8, payload: new Uint8Array([0x03, 0xee]) });
    await server.flush();
    expect(log).toEqual(['open(1)', 'error(3)', 'close(1006,"",false,3)']);
  });

  it('closes every connection with server.close(), 1001 by default, and stops listening', async () => {
    const server = startServer();
    const a = new WebSocket(server.url);
    const b = new WebSocket(server.url);
    const logs = [record(a), record(b)];
    await server.flush();
    const infos = await server.close();
    await server.flush();
    expect(infos.map((i) => i.closeCode)).toEqual([1001, 1001]);
    expect(logs).toEqual([
      ['open(1)', 'close(1001,"",true,3)'],
      ['open(1)', 'close(1001,"",true,3)'],
    ]);
    expect(server.listening).toBe(false);
  });

  it('drops every connection and pending handshake with dropAll()', async () => {
    const server = startServer({ autoAccept: false });
    const a = new WebSocket(server.url);
    const logA = record(a);
    await (await server.nextHandshake()).accept();
    const b = new WebSocket(server.url);
    const logB = record(b);
    await server.nextHandshake();
    server.dropAll();
    await server.flush();
    // An open connection lost: 1006 without error; a handshake dropped: a failure.
    expect(logA).toEqual(['open(1)', 'close(1006,"",false,3)']);
    expect(logB).toEqual(['error(3)', 'close(1006,"",false,3)']);
  });

  it('records the client’s close code and errors', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    const client = await server.nextConnection();
    await nextEvent(ws, 'open');
    ws.close(3000, 'client bye');
    expect(await client.closed).toEqual({ closeCode: 3000, reason: 'client bye', wasClean: true });
    expect(client.errors).toEqual([]);
  });
});

describe('TestServer: reading and backpressure', () => {
  it('pauses and resumes reading from the client', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    const client = await server.nextConnection();
    await nextEvent(ws, 'open');
    client.pauseReading();
    ws.send('held');
    await server.flush();
    expect(client.messages).toEqual([]);
    client.resumeReading();
    await server.flush();
    expect(client.messages).toEqual(['held']);
  });
});

describe('TestServer: globals and networks', () => {
  it('installs globalThis.WebSocket, WebSocketStream and WebSocketError, and restores them', async () => {
    const before = {
      WebSocket: (globalThis as Record<string, unknown>).WebSocket,
      WebSocketStream: (globalThis as Record<string, unknown>).WebSocketStream,
      WebSocketError: (globalThis as Record<string, unknown>).WebSocketError,
    };
    const network = new MemoryNetwork();
    const server = new TestServer(uniqueUrl(), { network, echo: true }).install();
    try {
      const G = globalThis as unknown as { WebSocket: typeof WebSocket; WebSocketStream: typeof WebSocketStream; WebSocketError: typeof WebSocketError };
      expect(G.WebSocket).toBe(server.WebSocket);
      expect(G.WebSocketStream).toBe(server.WebSocketStream);
      expect(G.WebSocketError).toBe(WebSocketError);
      const ws = new G.WebSocket(server.url);
      ws.onopen = () => ws.send('through the global');
      expect((await nextEvent<MessageEvent>(ws, 'message')).data).toBe('through the global');
      expect(typeof (globalThis as Record<string, unknown>).CloseEvent).toBe('function');
    } finally {
      server.stop();
    }
    expect((globalThis as Record<string, unknown>).WebSocket).toBe(before.WebSocket);
    expect((globalThis as Record<string, unknown>).WebSocketStream).toBe(before.WebSocketStream);
    expect((globalThis as Record<string, unknown>).WebSocketError).toBe(before.WebSocketError);
  });

  it('on the default network, its classes are the package’s own', () => {
    const server = startServer();
    expect(server.WebSocket).toBe(WebSocket);
    expect(server.WebSocketStream).toBe(WebSocketStream);
  });

  it('keeps networks apart: a server on another network is not reachable', async () => {
    const network = new MemoryNetwork();
    const url = uniqueUrl();
    const isolated = new TestServer(url, { network });
    try {
      const fromDefault = new WebSocket(url);
      const log = record(fromDefault);
      const fromNetwork = new isolated.WebSocket(url);
      await isolated.flush();
      expect(log).toEqual(['error(3)', 'close(1006,"",false,3)']);
      expect(fromNetwork.readyState).toBe(WebSocket.OPEN);
      expect(fromNetwork).toBeInstanceOf(WebSocket);
    } finally {
      isolated.dropAll();
    }
  });
});

describe('TestServer: flush()', () => {
  it('waits for the handshake (Web Crypto), delivery, Blob reads and events', async () => {
    const server = startServer({ echo: true });
    const ws = new WebSocket(server.url);
    const log = record(ws);
    ws.onopen = () => {
      ws.send(new Blob(['blob']));
      ws.send('text');
    };
    await server.flush();
    expect(log).toEqual(['open(1)', 'message(Blob(4))', 'message(text)']);
    const event = await new Promise<MessageEvent>((resolve) => {
      ws.onmessage = (e) => resolve(e);
      server.send(new Uint8Array([1]));
    });
    expect(await blobBytes(event.data as Blob)).toEqual([1]);
  });

  it('returns at once when nothing is in flight', async () => {
    const server = startServer();
    await server.flush();
    await server.flush();
  });

  it('gives up on two peers that echo each other forever', async () => {
    const server = startServer({ echo: true });
    const ws = new WebSocket(server.url);
    ws.onmessage = (event) => ws.send(event.data as string);
    ws.onopen = () => ws.send('forever');
    await expect(server.flush()).rejects.toThrow(/still busy/);
    ws.onmessage = null;
    await server.flush();
    // flush() gives up after a bounded number of busy rounds; how long those take depends on
    // the host (Chromium runs this suite too), so the test allows it time.
  }, 20_000);
});

/** Sends `head` to `server` over a raw duplex and returns what it answers, once that matches `until` (or it ends). */
async function rawExchange(server: TestServer, head: string, until: RegExp): Promise<string> {
  const [client, serverEnd] = createDuplexPair();
  server.acceptConnection(serverEnd, { url: server.url, clientHandshake: Promise.resolve() });
  const writer = client.writable.getWriter();
  void writer.write(encodeUtf8(head));
  const reader = client.readable.getReader();
  let answer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return answer;
    answer += decodeUtf8(value);
    if (until.test(answer)) return answer;
  }
}

describe('TestServer: one Request per handshake', () => {
  it('gives the handshake, every hook and the handler the same Request', async () => {
    const seen: Request[] = [];
    const server = startServer({
      handleProtocols: (offered, request) => (seen.push(request), offered[0] ?? null),
      authorize: ({ request }) => void seen.push(request),
      handler: (_conn, request) => void seen.push(request),
    });
    new WebSocket(server.url, ['p1']);
    const handshake = await server.nextHandshake();
    const client = await server.nextConnection();
    expect(seen).toHaveLength(3);
    for (const request of [...seen, client.request]) expect(request).toBe(handshake.request);
  });

  it('maps the answers of handshakes held together to their own connections, in any order', async () => {
    const server = startServer({ autoAccept: false, protocols: ['a', 'b'] });
    const first = new WebSocket(server.url, ['a', 'b']);
    const second = new WebSocket(server.url, ['a', 'b']);
    const opened = Promise.all([nextEvent(first, 'open'), nextEvent(second, 'open')]);
    const h1 = await server.nextHandshake();
    const h2 = await server.nextHandshake();
    const c2 = await h2.accept({ protocol: 'b' });
    const c1 = await h1.accept({ protocol: 'a' });
    expect([c1.protocol, c2.protocol]).toEqual(['a', 'b']);
    await opened;
    expect([first.protocol, second.protocol]).toEqual(['a', 'b']);
  });

  it('leaves a plain request to the engine: fetch answers it, as serve() would', async () => {
    const server = startServer({ fetch: () => new Response('done', { status: 200 }) });
    const answer = await rawExchange(server, `GET /page HTTP/1.1\r\nHost: ${server.url.host}\r\n\r\n`, /\r\n\r\ndone$/);
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer.endsWith('done')).toBe(true);
  });

  it('refuses a plain request without fetch with 426, as serve() would', async () => {
    const server = startServer();
    const answer = await rawExchange(server, `GET / HTTP/1.1\r\nHost: ${server.url.host}\r\n\r\n`, /\r\n\r\n/);
    expect(answer).toMatch(/^HTTP\/1\.1 426/);
  });
});
