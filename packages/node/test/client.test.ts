// Our client side: URL errors, refusals, timeouts, early frames, the request it sends, TLS
// trust, heartbeat and proxies from the environment, against raw servers and our own.
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { HandshakeError } from '@wsflow/codec';
import { connect, serve, type WebSocketServer } from '../src/index.ts';
import { makeCert, type TestCert } from './support/certs.ts';
import { Inbox } from './support/inbox.ts';
import { startProxy, type TestProxy } from './support/proxy.ts';
import { Opcode, rawServer, serverFrame, switchingProtocols } from './support/raw.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function echoServer(options: Parameters<typeof serve>[0] = {}): Promise<WebSocketServer> {
  const server = await serve({ ...options, handler: (conn) => {
      conn.onmessage = (data) => conn.send(data);
    },
  });
  cleanups.push(() => server.close());
  return server;
}

async function raw(onRequest: Parameters<typeof rawServer>[0]): Promise<number> {
  const server = await rawServer(onRequest);
  cleanups.push(() => server.close());
  return server.port;
}

describe('URLs', () => {
  test.each([
    ['http://127.0.0.1/', /ws: or wss:/],
    ['ftp://127.0.0.1/', /ws: or wss:/],
    ['ws://127.0.0.1/#top', /fragment/],
    ['ws://127.0.0.1/#', /fragment/],
    ['not a url', /Invalid URL/],
  ])('refuses %s with a SyntaxError', async (url, message) => {
    const error = await connect(url, { proxy: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SyntaxError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('opening handshake', () => {
  test('sends the resource name, Host, Origin, subprotocols and extra headers', async () => {
    let head = '';
    const port = await raw(async (socket, request, key) => {
      head = request;
      socket.write(await switchingProtocols(key!, 'Sec-WebSocket-Protocol: b\r\n'));
    });
    const conn = await connect(`ws://127.0.0.1:${port}/path/to?q=1&r=%20`, {
      protocols: ['a', 'b'],
      origin: 'https://app.example',
      headers: { Authorization: 'Bearer t0k3n', 'X-Trace': '7' },
      proxy: false,
    });
    expect(conn.protocol).toBe('b');
    expect(head).toMatch(/^GET \/path\/to\?q=1&r=%20 HTTP\/1\.1\r\n/);
    expect(head).toContain(`\r\nHost: 127.0.0.1:${port}\r\n`);
    expect(head).toContain('\r\nOrigin: https://app.example\r\n');
    expect(head).toContain('\r\nSec-WebSocket-Protocol: a, b\r\n');
    expect(head).toContain('\r\nAuthorization: Bearer t0k3n\r\n');
    expect(head).toContain('\r\nSec-WebSocket-Version: 13\r\n');
    conn.abort();
  });

  test('delivers frames that arrived in the same packet as the 101', async () => {
    const port = await raw(async (socket, _, key) => {
      const head = Buffer.from(await switchingProtocols(key!), 'latin1');
      socket.write(Buffer.concat([head, serverFrame(Opcode.Text, 'early bird'), serverFrame(Opcode.Binary, new Uint8Array([9, 8]))]));
    });
    const conn = await connect(`ws://127.0.0.1:${port}/`, { proxy: false });
    const inbox = new Inbox(conn);
    expect(await inbox.next()).toBe('early bird');
    expect([...((await inbox.next()) as Uint8Array)]).toEqual([9, 8]);
    conn.abort();
  });

  test('a refusal rejects with HandshakeError carrying the status', async () => {
    const port = await raw((socket) => socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'));
    const error = await connect(`ws://127.0.0.1:${port}/`, { proxy: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error).toMatchObject({ code: 'BAD_STATUS', status: 404 });
  });

  test('a wrong Sec-WebSocket-Accept is refused', async () => {
    const port = await raw((socket) =>
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n'),
    );
    const error = await connect(`ws://127.0.0.1:${port}/`, { proxy: false }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'HandshakeError', code: 'BAD_ACCEPT' });
  });

  test('a server closing before its answer is complete fails the handshake', async () => {
    const port = await raw((socket) => socket.end('HTTP/1.1 101 Switching'));
    await expect(connect(`ws://127.0.0.1:${port}/`, { proxy: false })).rejects.toThrow(/closed before a complete response head/);
  });

  test('nothing listening: the socket error', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await expect(connect(`ws://127.0.0.1:${port}/`, { proxy: false })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  test('a server that never answers times out after handshakeTimeout', async () => {
    let serverSideClosed = false;
    const port = await raw((socket) => socket.on('close', () => (serverSideClosed = true)));
    const started = Date.now();
    const error = await connect(`ws://127.0.0.1:${port}/`, { handshakeTimeout: 300, proxy: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('TimeoutError');
    expect(Date.now() - started).toBeLessThan(2000);
    await expect.poll(() => serverSideClosed).toBe(true);
  });

  test('an abort signal stops the handshake with its reason', async () => {
    const port = await raw(() => {});
    const controller = new AbortController();
    const pending = connect(`ws://127.0.0.1:${port}/`, { signal: controller.signal, proxy: false });
    setTimeout(() => controller.abort(new Error('user gave up')), 50);
    await expect(pending).rejects.toThrow('user gave up');
  });
});

describe('wss://', () => {
  let cert: TestCert;
  beforeAll(() => {
    cert = makeCert();
  });
  afterAll(() => cert.dispose());

  test('refuses a self-signed certificate unless trusted', async () => {
    const server = await echoServer({ tls: { cert: cert.cert, key: cert.key } });
    expect(server.url).toMatch(/^wss:\/\//);
    await expect(connect(server.url, { proxy: false })).rejects.toMatchObject({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
    const trusted = await connect(server.url, { ca: cert.cert, proxy: false });
    const inbox = new Inbox(trusted);
    trusted.send('trusted');
    expect(await inbox.next()).toBe('trusted');
    trusted.close();
    expect((await trusted.closed).wasClean).toBe(true);
  });

  test('verifies the host name: localhost is in the certificate', async () => {
    const server = await echoServer({ tls: { cert: cert.cert, key: cert.key } });
    const conn = await connect(`wss://localhost:${server.port}/`, { ca: cert.cert, proxy: false });
    conn.close();
    await conn.closed;
  });
});

describe('heartbeat', () => {
  test('drops a server that completes the handshake and then ignores Pings', async () => {
    let pinged = false;
    const port = await raw(async (socket, _, key) => {
      socket.write(await switchingProtocols(key!));
      socket.on('data', (chunk: Buffer) => (pinged ||= (chunk[0] & 0x0f) === Opcode.Ping));
    });
    const conn = await connect(`ws://127.0.0.1:${port}/`, { heartbeat: { interval: 150, timeout: 150 }, proxy: false });
    const started = Date.now();
    expect(await conn.closed).toEqual({ closeCode: 1006, reason: '', wasClean: false });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(pinged).toBe(true);
  });
});

describe('proxy from the environment', () => {
  let proxy: TestProxy;
  const saved = { ...process.env };
  beforeAll(async () => {
    proxy = await startProxy();
  });
  afterAll(() => proxy.close());
  afterEach(() => {
    for (const name of ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  test('ws:// uses HTTP_PROXY, unless NO_PROXY exempts the host or proxy is false', async () => {
    const server = await echoServer();
    delete process.env.http_proxy;
    delete process.env.no_proxy;
    process.env.HTTP_PROXY = proxy.url;
    delete process.env.NO_PROXY;
    const before = proxy.tunnels.length;

    const viaProxy = await connect(server.url);
    expect(proxy.tunnels.length).toBe(before + 1);
    expect(proxy.tunnels.at(-1)).toBe(`127.0.0.1:${server.port}`);
    viaProxy.close();
    await viaProxy.closed;

    process.env.NO_PROXY = 'example.com, 127.0.0.1';
    const exempt = await connect(server.url);
    exempt.close();
    await exempt.closed;

    delete process.env.NO_PROXY;
    const direct = await connect(server.url, { proxy: false });
    direct.close();
    await direct.closed;
    expect(proxy.tunnels.length).toBe(before + 1);
  });

  test('wss:// ignores HTTP_PROXY and uses https_proxy', async () => {
    const cert = makeCert();
    cleanups.push(() => cert.dispose());
    const server = await echoServer({ tls: { cert: cert.cert, key: cert.key } });
    for (const name of ['http_proxy', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY']) delete process.env[name];
    process.env.HTTP_PROXY = 'http://127.0.0.1:9/'; // would fail if used
    const before = proxy.tunnels.length;
    const direct = await connect(server.url, { ca: cert.cert });
    direct.close();
    await direct.closed;
    expect(proxy.tunnels.length).toBe(before);
    process.env.https_proxy = proxy.url;
    const tunnelled = await connect(server.url, { ca: cert.cert });
    expect(proxy.tunnels.length).toBe(before + 1);
    tunnelled.close();
    await tunnelled.closed;
  });
});
