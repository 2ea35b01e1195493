/**
 * The test kit around the TestServer: the engine of serve() behind it (the same handler,
 * options and policies), timed waits that say what they waited for, the JSON mode,
 * request headers as Headers, and the global clean-up.
 */
import type { ConnectionHandler, RejectionInfo } from '@wsflow/engine';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalBackplane, TestServer, WaitTimeoutError, WebSocket, configureTestKit, createWebSocketClass, resetTestServers, testKitDefaults } from '../src/index.ts';
import { nextEvent, record, startServer, uniqueUrl } from './helpers.ts';

/** A handler as production code writes it for serve() (it knows nothing of tests). */
const chatHandler: ConnectionHandler = (conn, request) => {
  const room = new URL(request.url).searchParams.get('room') ?? 'lobby';
  conn.send(`welcome to ${room}`);
  conn.onmessage = (message) => {
    if (message === 'bye') conn.close({ closeCode: 4000, reason: 'see you' });
    else conn.send(`${room}: ${String(message)}`);
  };
};

describe('TestServer runs the engine of serve()', () => {
  it('runs a handler written for serve() unchanged, and still records what the client sent', async () => {
    const server = startServer({ handler: chatHandler });
    const ws = new WebSocket(`${server.url.href}?room=42`);
    const got: string[] = [];
    ws.onmessage = (event) => got.push(String(event.data));
    await nextEvent(ws, 'open');
    ws.send('hi');
    await server.flush();
    expect(got).toEqual(['welcome to 42', '42: hi']);
    const client = server.connections[0]!;
    expect(client.messages).toEqual(['hi']);
    expect(await server.nextMessage()).toBe('hi');
    ws.send('bye');
    const closed = await nextEvent<CloseEvent>(ws, 'close');
    expect([closed.code, closed.reason]).toEqual([4000, 'see you']);
    expect((await client.closed).closeCode).toBe(4000);
  });

  it('gives the handler the very connection the test holds, and the same Request', async () => {
    const seen: unknown[] = [];
    const server = startServer({ handler: (conn, request) => void seen.push(conn, request) });
    new WebSocket(server.url);
    const client = await server.nextConnection();
    expect(seen[0]).toBe(client.raw);
    expect(seen[1]).toBe(client.request);
  });

  it('pairs each held handshake with its own connection when they are answered out of order', async () => {
    const server = startServer({ autoAccept: false });
    const first = new WebSocket(server.url, ['a', 'b']);
    const second = new WebSocket(server.url, ['a', 'b']);
    const opened = Promise.all([nextEvent(first, 'open'), nextEvent(second, 'open')]);
    const [h1, h2] = [await server.nextHandshake(), await server.nextHandshake()];
    const [c2, c1] = await Promise.all([h2.accept({ protocol: 'b' }), h1.accept({ protocol: 'a' })]);
    await opened;
    expect([first.protocol, second.protocol]).toEqual(['a', 'b']);
    expect([c1.protocol, c2.protocol]).toEqual(['a', 'b']);
    first.send('from first');
    expect(await c1.nextMessage()).toBe('from first');
  });

  it('runs a handler using the engine\'s topics; publish, subscriberCount and a backplane across two servers', async () => {
    const room: ConnectionHandler = (conn) => {
      conn.subscribe('room');
      conn.onmessage = (message) => void conn.publish('room', message);
    };
    const bus = new LocalBackplane();
    const a = startServer({ handler: room, backplane: bus.join() });
    const b = startServer({ handler: room, backplane: bus.join() });
    const ann = new WebSocket(a.url);
    const bob = new WebSocket(b.url);
    const got: string[] = [];
    bob.onmessage = (event) => got.push(String(event.data));
    await Promise.all([nextEvent(ann, 'open'), nextEvent(bob, 'open')]);
    expect([a.subscriberCount('room'), b.subscriberCount('room')]).toEqual([1, 1]);
    ann.send('from ann on a');
    await a.flush();
    expect(got).toEqual(['from ann on a']);
    expect(a.publish('room', 'from the server')).toBe(1);
    await a.flush();
    expect(got).toEqual(['from ann on a', 'from the server']);
    expect(a.connections[0]!.isSubscribed('room')).toBe(true);
  });

  it('refuses an unknown option with the TypeError serve() throws, naming the closest', () => {
    expect(() => new TestServer(uniqueUrl(), { maxPayLoad: 10 } as object)).toThrow(/TestServer: unknown option "maxPayLoad" \(did you mean "maxPayload"\?\)/);
    expect(() => new TestServer(uniqueUrl(), { handler: 'nope' } as object)).toThrow(TypeError);
    expect(() => new TestServer(uniqueUrl(), { maxMessage: -1 })).toThrow(RangeError);
  });

  it('refuses a forbidden origin with 403 through the engine, and tells onReject FORBIDDEN_ORIGIN', async () => {
    const rejections: RejectionInfo[] = [];
    const server = startServer({ allowedOrigins: ['https://app.test'], onReject: (info) => void rejections.push(info) });
    const Page = createWebSocketClass({ dialer: server.network.dialer, baseURL: 'https://app.test/' });
    const Evil = createWebSocketClass({ dialer: server.network.dialer, baseURL: 'https://evil.test/' });
    const good = record(new Page(server.url));
    const bad = record(new Evil(server.url));
    await server.flush();
    expect(good).toEqual(['open(1)']);
    expect(bad).toEqual(['error(3)', 'close(1006,"",false,3)']);
    expect(rejections.map((r) => [r.status, r.code])).toEqual([[403, 'FORBIDDEN_ORIGIN']]);
  });

  it('runs authorize with the request headers as Headers, and refuses with its status', async () => {
    const okay = `Basic ${btoa('ann:secret')}`;
    const server = startServer({
      authorize: ({ headers }) => (headers.get('authorization') === okay ? undefined : { status: 401 }),
      onReject: () => {},
    });
    const as = (user: string, password: string): string => {
      const url = new URL(server.url);
      url.username = user;
      url.password = password;
      return url.href;
    };
    const good = record(new WebSocket(as('ann', 'secret')));
    const bad = record(new WebSocket(as('ann', 'guess')));
    await server.flush();
    expect(good).toEqual(['open(1)']);
    expect(bad).toEqual(['error(3)', 'close(1006,"",false,3)']);
    const [first, second] = server.handshakes;
    expect(first!.headers).toBeInstanceOf(Headers);
    expect(first!.headers.get('authorization')).toBe(okay);
    expect(second!.headers.get('authorization')).toBe(`Basic ${btoa('ann:guess')}`);
    expect(server.connections[0]!.headers.get('authorization')).toBe(okay);
  });

  it('closes with 1011 and reports to onError when the handler throws, as serve() does', async () => {
    const errors: unknown[] = [];
    const server = startServer({
      handler: () => {
        throw new Error('boom');
      },
      onError: (error, context) => void errors.push([(error as Error).message, context.source]),
    });
    const ws = new WebSocket(server.url);
    const closed = await nextEvent<CloseEvent>(ws, 'close');
    expect(closed.code).toBe(1011);
    expect(errors).toEqual([['boom', 'handler']]);
  });

  it('applies the limits of serve(): a message over maxMessage closes with 1009', async () => {
    const server = startServer({ maxMessage: 4 });
    const ws = new WebSocket(server.url);
    await nextEvent(ws, 'open');
    ws.send('far too long');
    const closed = await nextEvent<CloseEvent>(ws, 'close');
    expect(closed.code).toBe(1009);
  });

  it('serves only its path when given one, answering 400 elsewhere', async () => {
    const rejections: string[] = [];
    const base = uniqueUrl('paths', '/');
    const server = startServer({ path: '/only', onReject: (info) => void rejections.push(info.code) }, base);
    const ws = record(new WebSocket(base));
    await server.flush();
    expect(ws).toEqual(['error(3)', 'close(1006,"",false,3)']);
    expect(rejections).toEqual(['PATH_MISMATCH']);
  });
});

describe('waits time out with a message naming what they waited for', () => {
  afterEach(() => configureTestKit({ timeout: 2000 }));

  it('nextMessage() of a connection names the connection and what it received so far', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    const open = nextEvent(ws, 'open');
    const client = await server.nextConnection();
    await open;
    ws.send('a');
    ws.send('b');
    expect(await client.nextMessage()).toBe('a');
    expect(await client.nextMessage()).toBe('b');
    const error = await client.nextMessage({ timeout: 30 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as Error).message).toBe(`TestServer ${server.url.href} connection #1: no message within 30 ms (received so far: 2 messages: "a", "b")`);
  });

  it('a wait that timed out takes nothing: the next message goes to the next wait', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    const open = nextEvent(ws, 'open');
    const client = await server.nextConnection();
    await open;
    await expect(client.nextMessage({ timeout: 10 })).rejects.toThrow(/no message within 10 ms/);
    ws.send('late');
    expect(await client.nextMessage()).toBe('late');
  });

  it('nextConnection(), nextHandshake() and server.nextMessage() say what did not come', async () => {
    const server = startServer({ timeout: 20 });
    await expect(server.nextConnection()).rejects.toThrow(`TestServer ${server.url.href}: no connection within 20 ms (connections so far: 0, handshakes: 0)`);
    await expect(server.nextHandshake({ timeout: 15 })).rejects.toThrow(`TestServer ${server.url.href}: no handshake within 15 ms (handshakes so far: 0)`);
    await expect(server.nextMessage()).rejects.toThrow(`TestServer ${server.url.href}: no message within 20 ms (received so far: none)`);
    await expect(server.connected).rejects.toThrow(/no client connected within 20 ms/);
  });

  it('closed times out while the client keeps the connection open', async () => {
    const server = startServer();
    new WebSocket(server.url);
    const client = await server.nextConnection();
    await expect(client.waitForClose({ timeout: 20 })).rejects.toThrow(/connection #1: not closed within 20 ms \(state: open/);
  });

  it('takes its default from configureTestKit', async () => {
    configureTestKit({ timeout: 25 });
    expect(testKitDefaults.timeout).toBe(25);
    const server = startServer();
    await expect(server.nextConnection()).rejects.toThrow(/within 25 ms/);
    expect(() => configureTestKit({ timeout: 0 })).toThrow(RangeError);
  });

  it("timeout is the server's option on the server and its connections, else the test kit's default as it is now", async () => {
    const server = startServer({ timeout: 40 });
    new WebSocket(server.url);
    const client = await server.nextConnection();
    expect([server.timeout, client.timeout]).toEqual([40, 40]);
    const plain = startServer();
    configureTestKit({ timeout: 35 });
    expect(plain.timeout).toBe(35);
  });
});

describe('JSON mode', () => {
  afterEach(resetTestServers);

  it('parses what the client sends and serializes what the server sends', async () => {
    type Chat = { type: string; room?: number; members?: string[] } | string;
    const server = new TestServer<Chat>(uniqueUrl(), { json: true });
    const ws = new WebSocket(server.url);
    const open = nextEvent(ws, 'open');
    const got: unknown[] = [];
    ws.onmessage = (event) => got.push(JSON.parse(String(event.data)));
    const client = await server.nextConnection();
    await open;
    ws.send(JSON.stringify({ type: 'join', room: 7 }));
    expect(await client.nextMessage()).toEqual({ type: 'join', room: 7 });
    client.send({ type: 'joined', members: ['ann'] });
    server.send('plain string');
    await server.flush();
    expect(got).toEqual([{ type: 'joined', members: ['ann'] }, 'plain string']);
  });

  it('fails a wait on a text that is not JSON, naming the text', async () => {
    const server = startServer({ json: true });
    const ws = new WebSocket(server.url);
    const open = nextEvent(ws, 'open');
    const client = await server.nextConnection();
    await open;
    ws.send('hello there');
    await expect(client.nextMessage()).rejects.toThrow(/connection #1: received a text that is not JSON \(.*\): "hello there"/);
  });
});

describe('resetTestServers()', () => {
  it('drops every server still listening and restores the globals they installed', async () => {
    const before = globalThis.WebSocket;
    const a = new TestServer(uniqueUrl()).install();
    const b = new TestServer(uniqueUrl());
    const ws = new WebSocket(b.url);
    await nextEvent(ws, 'open');
    expect(globalThis.WebSocket).not.toBe(before);
    await resetTestServers();
    expect(a.listening).toBe(false);
    expect(b.listening).toBe(false);
    expect(ws.readyState).toBe(WebSocket.CLOSED);
    expect(globalThis.WebSocket).toBe(before);
    // The URLs are free again.
    new TestServer(a.url).stop();
  });
});
