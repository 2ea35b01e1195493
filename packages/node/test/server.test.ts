// Our server side: serve, attach, handleUpgrade, the upgrade hook, timeouts, limits,
// heartbeat and graceful shutdown, against the `ws` client and raw sockets.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import type { WebSocketConnection } from '@wsflow/codec';
import { attach, handleUpgrade, serve, type AuthorizeRequest, type RejectionInfo, type ServeOptions, type WebSocketServer } from '../src/index.ts';
import { Inbox } from './support/inbox.ts';
import { clientFrame, closePayload, Opcode, RawClient, upgradeRequest } from './support/raw.ts';
import { delay, nextMessage, Refused, wsClosed, wsOpen } from './support/ws_open.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: ServeOptions = {}): Promise<WebSocketServer> {
  const server = await serve(options);
  cleanups.push(() => server.close());
  return server;
}

async function httpServer(handler?: (request: import('node:http').IncomingMessage, response: import('node:http').ServerResponse) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(handler ?? ((_, response) => response.end('hello over http')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { server, port: (server.address() as AddressInfo).port };
}

async function raw(port: number): Promise<RawClient> {
  const client = await RawClient.open(port);
  cleanups.push(() => client.socket.destroy());
  return client;
}

const echo = (conn: WebSocketConnection): void => {
  conn.onmessage = (data) => conn.send(data);
};

describe('serve', () => {
  test('listens on 127.0.0.1 with an OS-chosen port by default and reports its URL', async () => {
    const server = await start({ handler: echo });
    expect(server.address.address).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`ws://127.0.0.1:${server.port}/`);
    const ws = await wsOpen(server.url);
    ws.send('ping?');
    expect(await nextMessage(ws)).toBe('ping?');
    ws.close();
  });

  test('answers a plain HTTP request with 426 Upgrade Required', async () => {
    const server = await start({ handler: echo });
    const response = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(response.status).toBe(426);
    expect(response.headers.get('upgrade')).toBe('websocket');
    expect(response.headers.get('sec-websocket-version')).toBe('13');
    await response.text();
  });

  test('refuses an upgrade for another path with 400', async () => {
    const server = await start({ path: '/chat', handler: echo });
    expect(server.url).toBe(`ws://127.0.0.1:${server.port}/chat`);
    const client = await raw(server.port);
    client.socket.write(upgradeRequest('/other', `127.0.0.1:${server.port}`));
    expect(await client.head()).toMatch(/^HTTP\/1\.1 400 /);
    await client.closed;
  });

  test.each([
    ['no Sec-WebSocket-Key', { 'Sec-WebSocket-Key': null }, 400, null],
    ['a malformed key', { 'Sec-WebSocket-Key': 'short' }, 400, null],
    ['version 8', { 'Sec-WebSocket-Version': '8' }, 426, /\r\nSec-WebSocket-Version: 13\r\n/],
    // Upgrade to something else is plain HTTP to a WebSocket server, as on every runtime: 426 naming websocket.
    ['an Upgrade to another protocol', { Connection: 'keep-alive, Upgrade', Upgrade: 'h2c' }, 426, /\r\nUpgrade: websocket\r\n/],
  ] as const)('refuses a request with %s (%i)', async (_, fields, status, header) => {
    const rejected: RejectionInfo[] = [];
    const server = await start({ handler: echo, onReject: (info) => rejected.push(info) });
    const client = await raw(server.port);
    client.socket.write(upgradeRequest('/', `127.0.0.1:${server.port}`, fields));
    const head = await client.head();
    expect(head).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    if (header !== null) expect(head).toMatch(header);
    expect(rejected[0]?.status).toBe(status);
  });

  test('feeds bytes that arrived with the request head to the connection first', async () => {
    const inboxes: Inbox[] = [];
    const server = await start({ handler: (conn) => void inboxes.push(new Inbox(conn)) });
    const client = await raw(server.port);
    const request = Buffer.from(upgradeRequest('/', `127.0.0.1:${server.port}`), 'latin1');
    // One write: the head, two frames, a third frame split in two.
    const third = clientFrame(Opcode.Text, 'third ✓');
    client.socket.write(Buffer.concat([request, clientFrame(Opcode.Text, 'early'), clientFrame(Opcode.Binary, new Uint8Array([1, 2, 3])), third.subarray(0, 3)]));
    await client.head();
    await delay(20);
    client.socket.write(third.subarray(3));
    await expect.poll(() => inboxes.length).toBe(1);
    expect(await inboxes[0].next()).toBe('early');
    expect([...(await inboxes[0].next()) as Uint8Array]).toEqual([1, 2, 3]);
    expect(await inboxes[0].next()).toBe('third ✓');
  });

  test('delivers connections to an async iterator without losing a message sent at once', async () => {
    const server = await start();
    const ws = await wsOpen(`${server.url}?room=7`);
    ws.send('first');
    for await (const { connection, request } of server) {
      const inbox = new Inbox(connection);
      expect(request.url).toBe(`http://127.0.0.1:${server.port}/?room=7`);
      expect(await inbox.next()).toBe('first');
      break;
    }
    ws.close();
  });

  test('close() says 1001 to every client, waits for them, and ends the iteration', async () => {
    const server = await serve();
    const accepted: WebSocketConnection[] = [];
    const iterating = (async () => {
      for await (const { connection } of server) accepted.push(connection);
      return 'ended';
    })();
    const clients = await Promise.all([wsOpen(server.url), wsOpen(server.url)]);
    const closes = clients.map(wsClosed);
    await expect.poll(() => server.connections.size).toBe(2);
    await server.close();
    expect(await Promise.all(closes)).toEqual([
      { code: 1001, reason: '' },
      { code: 1001, reason: '' },
    ]);
    expect(server.connections.size).toBe(0);
    expect(await iterating).toBe('ended');
    for (const conn of accepted) expect((await conn.closed).closeCode).toBe(1001);
  });

  test('a message over maxMessage closes the connection with 1009', async () => {
    const server = await start({ maxMessage: 1024, handler: echo });
    const ws = await wsOpen(server.url);
    const closed = wsClosed(ws);
    ws.send(Buffer.alloc(2048));
    expect((await closed).code).toBe(1009);
  });
});

describe('the upgrade hook', () => {
  test('sees the URL, headers, cookies, remote address, origin and selected protocol', async () => {
    let seen: AuthorizeRequest | null = null;
    const server = await start({
      path: '/room',
      handler: echo,
      handleProtocols: (offered) => (offered.includes('chat') ? 'chat' : null),
      authorize: (request) => {
        seen = request;
      },
    });
    const ws = await wsOpen(`${server.url}?id=42`, ['x-other', 'chat'], {
      origin: 'https://app.example',
      headers: { Cookie: 'sid=abc123; theme="dark"', 'X-Trace': 't-1' },
    });
    expect(ws.protocol).toBe('chat');
    const request = seen as unknown as AuthorizeRequest;
    expect(request.url.href).toBe(`ws://127.0.0.1:${server.port}/room?id=42`);
    expect(request.cookies).toEqual({ sid: 'abc123', theme: 'dark' });
    expect(request.headers.get('x-trace')).toBe('t-1');
    expect(request.remoteAddress).toBe('127.0.0.1');
    expect(request.origin).toBe('https://app.example');
    expect(request.protocol).toBe('chat');
    ws.close();
  });

  test('a throwing hook refuses with 500', async () => {
    const rejected: RejectionInfo[] = [];
    const server = await start({
      handler: echo,
      onReject: (info) => rejected.push(info),
      authorize: async () => {
        throw new Error('database down');
      },
    });
    const error = await wsOpen(server.url).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Refused);
    expect((error as Refused).status).toBe(500);
    expect(rejected[0]).toMatchObject({ status: 500, code: 'HOOK_FAILED' });
  });

  test('handleProtocols picking a protocol the client did not offer refuses with 500', async () => {
    const rejected: RejectionInfo[] = [];
    const server = await start({ handler: echo, handleProtocols: () => 'not-offered', onReject: (info) => rejected.push(info) });
    const error = await wsOpen(server.url, ['chat']).catch((e: unknown) => e);
    expect((error as Refused).status).toBe(500);
    expect(rejected[0]).toMatchObject({ status: 500, code: 'HOOK_FAILED' });
  });

  test('a hook slower than handshakeTimeout gets the socket dropped', async () => {
    const rejected: RejectionInfo[] = [];
    const server = await start({
      handler: echo,
      handshakeTimeout: 200,
      onReject: (info) => rejected.push(info),
      authorize: () => new Promise(() => {}),
    });
    const client = await raw(server.port);
    const started = Date.now();
    client.socket.write(upgradeRequest('/', `127.0.0.1:${server.port}`));
    await client.closed;
    expect(Date.now() - started).toBeLessThan(2000);
    expect(client.received.length).toBe(0);
    expect(rejected[0]).toMatchObject({ status: 0, code: 'TIMEOUT' });
  });
});

describe('handshake timeout of the raw phase', () => {
  test('a client that stalls its request head is dropped', async () => {
    const server = await start({ handler: echo, handshakeTimeout: 1000 });
    const client = await raw(server.port);
    const started = Date.now();
    client.socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\n`);
    await client.closed;
    // Node checks every max(1 s, timeout / 2).
    expect(Date.now() - started).toBeLessThan(4000);
  });
});

describe('attach', () => {
  test('serves two paths on one http server next to its ordinary requests', async () => {
    const { server, port } = await httpServer();
    const a = attach(server, { path: '/a', handler: (conn) => void (conn.onmessage = (data) => conn.send(`a:${String(data)}`)) });
    const b = attach(server, { path: '/b', handler: (conn) => void (conn.onmessage = (data) => conn.send(`b:${String(data)}`)) });
    cleanups.push(() => a.close(), () => b.close());
    const [wa, wb] = await Promise.all([wsOpen(`ws://127.0.0.1:${port}/a`), wsOpen(`ws://127.0.0.1:${port}/b?x=1`)]);
    wa.send('1');
    wb.send('2');
    expect(await nextMessage(wa)).toBe('a:1');
    expect(await nextMessage(wb)).toBe('b:2');
    const response = await fetch(`http://127.0.0.1:${port}/`);
    expect(await response.text()).toBe('hello over http');
    wa.close();
    wb.close();
  });

  test('leaves other paths to the other upgrade listeners', async () => {
    const { server, port } = await httpServer();
    const endpoint = attach(server, { path: '/ws', handler: echo });
    cleanups.push(() => endpoint.close());
    server.on('upgrade', (request, socket) => {
      if (request.url === '/other') socket.end('HTTP/1.1 418 I am a teapot\r\nContent-Length: 0\r\n\r\n');
    });
    const client = await raw(port);
    client.socket.write(upgradeRequest('/other', `127.0.0.1:${port}`));
    expect(await client.head()).toMatch(/^HTTP\/1\.1 418 /);
  });

  test('refuses other paths with 400 when no other listener exists', async () => {
    const { server, port } = await httpServer();
    const endpoint = attach(server, { path: '/ws', handler: echo });
    cleanups.push(() => endpoint.close());
    const client = await raw(port);
    client.socket.write(upgradeRequest('/nowhere', `127.0.0.1:${port}`));
    expect(await client.head()).toMatch(/^HTTP\/1\.1 400 /);
  });

  test("runs on the server engine: its connections are the engine's, a handler's throw is 1011 and onError, close is 1001", async () => {
    const { server, port } = await httpServer();
    const errors: Array<{ error: unknown; source: string }> = [];
    const endpoint = attach(server, {
      path: '/ws',
      handler: (conn) => {
        conn.onmessage = (data) => {
          if (String(data) === 'throw') throw new Error('handler bug');
          conn.send(data);
        };
      },
      onError: (error, { source }) => void errors.push({ error, source }),
    });
    cleanups.push(() => endpoint.close());
    const [failing, staying] = await Promise.all([wsOpen(`ws://127.0.0.1:${port}/ws`), wsOpen(`ws://127.0.0.1:${port}/ws`)]);
    await expect.poll(() => endpoint.engine.connections.size).toBe(2);
    expect(endpoint.connections).toBe(endpoint.engine.connections);
    const failed = wsClosed(failing);
    failing.send('throw');
    expect((await failed).code).toBe(1011);
    expect(errors).toMatchObject([{ source: 'connection', error: { message: 'handler bug' } }]);
    staying.send('still here');
    expect(await nextMessage(staying)).toBe('still here');
    const closed = wsClosed(staying);
    await endpoint.close();
    expect((await closed).code).toBe(1001);
  });

  test("gives the engine's server connections: they subscribe and publish, and the endpoint publishes to them", async () => {
    const { server, port } = await httpServer();
    const endpoint = attach(server, {
      path: '/ws',
      handler: (conn) => {
        conn.subscribe('room');
        conn.onmessage = (data) => void conn.publish('room', `relayed:${String(data)}`);
      },
    });
    cleanups.push(() => endpoint.close());
    const [alice, bob] = await Promise.all([wsOpen(`ws://127.0.0.1:${port}/ws`), wsOpen(`ws://127.0.0.1:${port}/ws`)]);
    await expect.poll(() => endpoint.subscriberCount('room')).toBe(2);
    // A connection's publish skips itself: bob hears alice.
    const heard = nextMessage(bob);
    alice.send('hi');
    expect(await heard).toBe('relayed:hi');
    const both = [nextMessage(alice), nextMessage(bob)];
    expect(endpoint.publish('room', 'to everyone')).toBe(2);
    expect(await Promise.all(both)).toEqual(['to everyone', 'to everyone']);
    alice.close();
    bob.close();
  });

  test('refuses a second endpoint for the same path; close() detaches', async () => {
    const { server } = await httpServer();
    const endpoint = attach(server, { path: '/ws', handler: echo });
    expect(() => attach(server, { path: '/ws' })).toThrow(/already attached/);
    expect(server.listenerCount('upgrade')).toBe(1);
    await endpoint.close();
    expect(server.listenerCount('upgrade')).toBe(0);
  });
});

describe('handleUpgrade', () => {
  test('completes the handshake from a plain upgrade listener, with a callback', async () => {
    const { server, port } = await httpServer();
    server.on('upgrade', (request, socket, head) => void handleUpgrade(request, socket, head, { path: '/x' }, echo));
    const ws = await wsOpen(`ws://127.0.0.1:${port}/x`);
    ws.send('echo me');
    expect(await nextMessage(ws)).toBe('echo me');
    ws.close();
    const refused = await wsOpen(`ws://127.0.0.1:${port}/y`).catch((e: unknown) => e);
    expect((refused as Refused).status).toBe(400);
  });

  test('refuses a misspelt option with a TypeError naming it, as serve does', async () => {
    const { server, port } = await httpServer();
    const failures: unknown[] = [];
    server.on('upgrade', (request, socket, head) => {
      handleUpgrade(request, socket, head, { maxPayLoad: 10 } as never).catch((error: unknown) => {
        failures.push(error);
        socket.destroy();
      });
    });
    await wsOpen(`ws://127.0.0.1:${port}/`).catch(() => undefined);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(TypeError);
    expect(String(failures[0])).toMatch(/maxPayLoad.*maxPayload/);
  });

  test("rejects with the callback's error, the connection started all the same", async () => {
    const { server, port } = await httpServer();
    const outcomes: Array<Promise<unknown>> = [];
    server.on('upgrade', (request, socket, head) => {
      outcomes.push(
        handleUpgrade(request, socket, head, {}, (conn) => {
          conn.onmessage = (data) => conn.send(data);
          throw new Error('callback bug');
        }).catch((error: unknown) => error),
      );
    });
    const ws = await wsOpen(`ws://127.0.0.1:${port}/`);
    await expect.poll(() => outcomes.length).toBe(1);
    expect(String(await outcomes[0])).toMatch(/callback bug/);
    ws.send('still echoed');
    expect(await nextMessage(ws)).toBe('still echoed');
    ws.close();
  });

  test('without a callback, resolves the connection in time to see the first message', async () => {
    const { server, port } = await httpServer();
    const accepted: Array<Promise<WebSocketConnection | null>> = [];
    server.on('upgrade', (request, socket, head) => accepted.push(handleUpgrade(request, socket, head)));
    const ws = await wsOpen(`ws://127.0.0.1:${port}/`);
    ws.send('right away');
    await expect.poll(() => accepted.length).toBe(1);
    const conn = (await accepted[0])!;
    const inbox = new Inbox(conn);
    expect(await inbox.next()).toBe('right away');
    ws.close();
  });
});

describe('heartbeat', () => {
  test('drops a peer that completes the handshake and then ignores Pings', async () => {
    const accepted: WebSocketConnection[] = [];
    const server = await start({ heartbeat: { interval: 150, timeout: 150 }, handler: (conn) => void accepted.push(conn) });
    const client = await raw(server.port);
    client.socket.write(upgradeRequest('/', `127.0.0.1:${server.port}`));
    expect(await client.head()).toMatch(/^HTTP\/1\.1 101 /);
    await expect.poll(() => accepted.length).toBe(1);
    const started = Date.now();
    expect(await accepted[0].closed).toEqual({ closeCode: 1006, reason: '', wasClean: false });
    expect(Date.now() - started).toBeLessThan(2000);
    // It did get a Ping (0x89, empty) before being dropped.
    expect(client.afterHead().subarray(0, 2)).toEqual(Buffer.from([0x89, 0x00]));
    await client.closed;
  });

  test('keeps a peer that answers Pings', async () => {
    const server = await start({ heartbeat: { interval: 100, timeout: 100 }, handler: echo });
    const ws = await wsOpen(server.url);
    let pings = 0;
    ws.on('ping', () => pings++);
    await delay(700);
    expect(pings).toBeGreaterThanOrEqual(3);
    expect(ws.readyState).toBe(ws.OPEN);
    ws.send('still here');
    expect(await nextMessage(ws)).toBe('still here');
    ws.close();
  });
});

describe('closing handshake ending', () => {
  // RFC 6455 §7.1.1: the server closes TCP first, as soon as the peer answers its Close,
  // not when closeTimeout runs out (a peer that waits for it would otherwise hang).
  test('the server closes TCP right after the peer answers its Close', async () => {
    const server = await start({ closeTimeout: 5000, handler: (conn) => conn.close({ closeCode: 1000, reason: 'done' }) });
    const client = await raw(server.port);
    client.socket.write(upgradeRequest('/', `127.0.0.1:${server.port}`));
    await client.head();
    await client.until(() => client.afterHead()[0] === 0x88);
    client.socket.write(clientFrame(Opcode.Close, closePayload(1000)));
    const outcome = await Promise.race([client.closed.then(() => 'closed'), delay(1500).then(() => 'still open')]);
    expect(outcome).toBe('closed');
  });
});
