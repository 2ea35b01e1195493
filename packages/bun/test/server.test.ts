// Our server's opening handshake and life cycle: plain HTTP (426 or the fetch fallback),
// refusals (403 Origin, 401 from the upgrade hook, 400, 431), timeouts, heartbeat, iteration.
import { afterEach, describe, expect, test } from 'vitest';
import { HandshakeError } from '@wsflow/codec';
import { connect, serve, type AuthorizeRequest, type RejectionInfo, type ServeOptions, type WebSocketConnection, type WebSocketServer } from '../src/index.ts';
import { clientFrame, Opcode, RawPeer, upgradeRequest } from './support/raw_peer.ts';
import { delay, Inbox, until, within } from './support/wait.ts';

const echo = (conn: WebSocketConnection): void => {
  conn.onmessage = (data) => conn.send(data);
};

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: ServeOptions = {}): Promise<WebSocketServer> {
  const server = await serve({ handler: echo, ...options });
  cleanups.push(() => server.close());
  return server;
}

async function raw(port: number): Promise<RawPeer> {
  const peer = await RawPeer.open(port);
  cleanups.push(() => peer.close());
  return peer;
}

/** Sends a request head and returns the status line and the whole response head. */
async function ask(port: number, request: string): Promise<{ status: number; head: string; peer: RawPeer }> {
  const peer = await raw(port);
  peer.write(request);
  const head = await peer.head();
  return { status: Number(head.slice(9, 12)), head, peer };
}

describe('serve', () => {
  test('listens on 127.0.0.1 with an OS-chosen port by default and reports its URL', async () => {
    const server = await start();
    expect(server.hostname).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`ws://127.0.0.1:${server.port}/`);
  });

  test('answers a plain HTTP request with 426 Upgrade Required', async () => {
    const rejected: RejectionInfo[] = [];
    const server = await start({ onReject: (info) => rejected.push(info) });
    const response = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(response.status).toBe(426);
    expect(response.headers.get('upgrade')).toBe('websocket');
    expect(response.headers.get('sec-websocket-version')).toBe('13');
    expect(await response.text()).toBe('This server speaks WebSocket only\n');
    expect(rejected.map((r) => [r.status, r.code])).toEqual([[426, 'UPGRADE_REQUIRED']]);
  });

  test('hands plain HTTP requests to the fetch fallback, bodies included', async () => {
    const server = await start({
      fetch: async (request) => {
        const body = request.method === 'POST' ? await request.text() : '';
        return new Response(`${request.method} ${new URL(request.url).pathname} ${body}`, {
          status: 201,
          headers: { 'X-Served-By': 'fallback', 'Set-Cookie': 'a=1' },
        });
      },
    });
    const get = await fetch(`http://127.0.0.1:${server.port}/hello?x=1`);
    expect(get.status).toBe(201);
    expect(get.headers.get('x-served-by')).toBe('fallback');
    expect(await get.text()).toBe('GET /hello ');
    const post = await fetch(`http://127.0.0.1:${server.port}/form`, { method: 'POST', body: 'name=bun' });
    expect(await post.text()).toBe('POST /form name=bun');
    // WebSocket upgrades still work next to it.
    const conn = await connect(server.url, { proxy: false });
    const inbox = new Inbox(conn);
    conn.send('still a WebSocket server');
    expect(await inbox.next()).toBe('still a WebSocket server');
    conn.close();
    await conn.closed;
  });

  test('the fetch fallback answers 500 when the function throws', async () => {
    const server = await start({
      fetch: () => {
        throw new Error('broken');
      },
    });
    const response = await fetch(`http://127.0.0.1:${server.port}/`);
    expect(response.status).toBe(500);
    await response.text();
  });

  test('refuses an upgrade for another path with 400', async () => {
    const server = await start({ path: '/chat' });
    expect(server.url).toBe(`ws://127.0.0.1:${server.port}/chat`);
    const { status } = await ask(server.port, upgradeRequest('/other', `127.0.0.1:${server.port}`));
    expect(status).toBe(400);
    const conn = await connect(server.url, { proxy: false });
    conn.close();
    await conn.closed;
  });

  test.each([
    ['no Sec-WebSocket-Key', { 'Sec-WebSocket-Key': null }, 400, 'BAD_KEY'],
    ['a malformed key', { 'Sec-WebSocket-Key': 'short' }, 400, 'BAD_KEY'],
    ['version 8', { 'Sec-WebSocket-Version': '8' }, 426, 'BAD_VERSION'],
    ['no Connection: Upgrade', { Connection: 'keep-alive' }, 400, 'BAD_CONNECTION'],
    ['no Host', { Host: null }, 400, 'MISSING_HOST'],
  ] as const)('refuses a request with %s (%i %s)', async (_name, fields, status, code) => {
    const rejected: RejectionInfo[] = [];
    const server = await start({ onReject: (info) => rejected.push(info) });
    const answer = await ask(server.port, upgradeRequest('/', `127.0.0.1:${server.port}`, fields));
    expect(answer.status).toBe(status);
    if (status === 426) expect(answer.head).toMatch(/\r\nSec-WebSocket-Version: 13\r\n/);
    await until(() => rejected.length === 1);
    expect(rejected[0].code).toBe(code);
    expect(rejected[0].request).toBeInstanceOf(Request);
  });

  test('refuses a malformed head with 400 and an oversized one with 431', async () => {
    const server = await start({ maxHeadSize: 1024 });
    expect((await ask(server.port, 'GET / HTTP/1.1\nHost: x\n\n')).status).toBe(400);
    const { status } = await ask(server.port, upgradeRequest('/', 'x', { 'X-Padding': 'p'.repeat(2000) }));
    expect(status).toBe(431);
  });

  test('refuses a foreign Origin with 403 and accepts a listed one', async () => {
    const server = await start({ allowedOrigins: ['https://app.example'] });
    const error = await connect(server.url, { proxy: false, origin: 'https://evil.example' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandshakeError);
    expect((error as HandshakeError).status).toBe(403);
    const missing = await ask(server.port, upgradeRequest('/', `127.0.0.1:${server.port}`));
    expect(missing.status).toBe(403);
    const conn = await connect(server.url, { proxy: false, origin: 'https://app.example' });
    conn.close();
    await conn.closed;
  });

  test('an allowedOrigins predicate gets the Origin and the request', async () => {
    const seen: Array<[string | undefined, string]> = [];
    const server = await start({
      allowedOrigins: (origin, request) => {
        seen.push([origin, new URL(request.url).pathname]);
        return origin === 'https://ok.example';
      },
    });
    await connect(`${server.url}room`, { proxy: false, origin: 'https://no.example' }).catch(() => {});
    const conn = await connect(`${server.url}room`, { proxy: false, origin: 'https://ok.example' });
    conn.close();
    await conn.closed;
    expect(seen).toEqual([
      ['https://no.example', '/room'],
      ['https://ok.example', '/room'],
    ]);
  });
});

describe('the upgrade hook', () => {
  test('refuses with 401 and its own headers and body', async () => {
    const rejected: RejectionInfo[] = [];
    const server = await start({
      authorize: async ({ headers }) => {
        await delay(5);
        if (headers.get('authorization') !== 'Bearer good') {
          return { status: 401, headers: { 'WWW-Authenticate': 'Bearer' }, body: 'Sign in first' };
        }
      },
      onReject: (info) => rejected.push(info),
    });
    const { status, head, peer } = await ask(server.port, upgradeRequest('/', `127.0.0.1:${server.port}`, { Authorization: 'Bearer bad' }));
    expect(status).toBe(401);
    expect(head).toMatch(/\r\nWWW-Authenticate: Bearer\r\n/);
    await until(() => peer.text().length >= 'Sign in first'.length);
    expect(peer.text()).toBe('Sign in first');
    expect(rejected.map((r) => r.code)).toEqual(['REJECTED']);

    const error = await connect(server.url, { proxy: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandshakeError);
    expect((error as HandshakeError).code).toBe('BAD_STATUS');
    expect((error as HandshakeError).status).toBe(401);

    const conn = await connect(server.url, { proxy: false, headers: { Authorization: 'Bearer good' } });
    conn.close();
    await conn.closed;
  });

  test('sees the URL, cookies, origin, remote address and the selected protocol', async () => {
    let seen: AuthorizeRequest | undefined;
    const server = await start({
      handleProtocols: (offered) => offered[0],
      authorize: (request) => {
        seen = request;
      },
    });
    const conn = await connect(`${server.url}path?q=1`, {
      proxy: false,
      protocols: 'p1',
      origin: 'https://site.example',
      headers: { Cookie: 'sid=abc; theme="dark"' },
    });
    conn.close();
    await conn.closed;
    expect(seen!.url.href).toBe(`ws://127.0.0.1:${server.port}/path?q=1`);
    expect(seen!.cookies).toEqual({ sid: 'abc', theme: 'dark' });
    expect(seen!.origin).toBe('https://site.example');
    expect(seen!.remoteAddress).toBe('127.0.0.1');
    expect(seen!.protocol).toBe('p1');
    expect(seen!.request.url).toBe(`http://127.0.0.1:${server.port}/path?q=1`);
  });

  test('a throwing hook refuses with 500', async () => {
    const server = await start({
      authorize: () => {
        throw new Error('db down');
      },
    });
    const error = await connect(server.url, { proxy: false }).catch((e: unknown) => e);
    expect((error as HandshakeError).status).toBe(500);
  });

  test('a hook slower than handshakeTimeout drops the socket without an answer', async () => {
    const rejected: RejectionInfo[] = [];
    const server = await start({
      handshakeTimeout: 150,
      authorize: () => delay(1000),
      onReject: (info) => rejected.push(info),
    });
    const peer = await raw(server.port);
    peer.write(upgradeRequest('/', `127.0.0.1:${server.port}`));
    await within(peer.closed, 3000, 'drop');
    expect(peer.text()).toBe('');
    expect(rejected.map((r) => [r.status, r.code])).toEqual([[0, 'TIMEOUT']]);
  });
});

describe('timeouts and heartbeat', () => {
  test('a client that never sends its request head is dropped after handshakeTimeout', async () => {
    const server = await start({ handshakeTimeout: 150 });
    const peer = await raw(server.port);
    peer.write('GET / HTTP/1.1\r\n');
    await within(peer.closed, 3000, 'drop');
  });

  test('the heartbeat drops a peer that does not answer Pings, with 1006', async () => {
    let serverConn!: WebSocketConnection;
    const server = await start({ heartbeat: { interval: 100, timeout: 100 }, handler: (c) => void (serverConn = c) });
    const peer = await RawPeer.upgraded(server.port); // a raw peer never answers a Ping
    cleanups.push(() => peer.close());
    const ping = await peer.nextFrame();
    expect(ping.opcode).toBe(Opcode.Ping);
    await within(peer.closed, 3000, 'drop');
    expect(await within(serverConn.closed, 1000, 'closed')).toEqual({ closeCode: 1006, reason: '', wasClean: false });
  });

  test('the heartbeat keeps a live peer (one that answers Pings) connected', async () => {
    const server = await start({ heartbeat: { interval: 50, timeout: 100 } });
    const conn = await connect(server.url, { proxy: false });
    let pings = 0;
    conn.onping = () => pings++;
    const inbox = new Inbox(conn);
    await delay(600);
    expect(pings).toBeGreaterThanOrEqual(3);
    expect(conn.state).toBe('open');
    conn.send('alive');
    expect(await inbox.next()).toBe('alive');
    conn.close();
    await conn.closed;
  });
});

describe('iteration', () => {
  test('without a handler, connections are delivered to whoever iterates the server', async () => {
    const server = await serve();
    cleanups.push(() => server.close());
    const conns = (async () => {
      const seen: string[] = [];
      for await (const { connection, request } of server) {
        seen.push(new URL(request.url).pathname);
        connection.onmessage = (data) => connection.send(data);
        if (seen.length === 2) break;
      }
      return seen;
    })();
    const a = await connect(`${server.url}a`, { proxy: false });
    const b = await connect(`${server.url}b`, { proxy: false });
    const inbox = new Inbox(b);
    b.send('hello b');
    expect(await inbox.next()).toBe('hello b');
    expect((await within(conns, 3000, 'iteration')).sort()).toEqual(['/a', '/b']);
    a.close();
    b.close();
    await Promise.all([a.closed, b.closed]);
  });

  test('messages sent before the handler took the connection are delivered, in order', async () => {
    const server = await start({
      handler: async (conn) => {
        await delay(50);
        conn.onmessage = (data) => conn.send(`late ${String(data)}`);
      },
    });
    const peer = await RawPeer.upgraded(server.port);
    cleanups.push(() => peer.close());
    for (let i = 0; i < 3; i++) peer.write(clientFrame(Opcode.Text, `m${i}`));
    for (let i = 0; i < 3; i++) expect(new TextDecoder().decode((await peer.nextFrame()).payload)).toBe(`late m${i}`);
  });
});
