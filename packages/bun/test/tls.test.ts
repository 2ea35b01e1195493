// wss://: our server on Bun.listen with TLS and our client on Bun.connect with TLS, with a
// self-signed certificate made at test time with openssl.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connect, serve, type WebSocketConnection, type WebSocketServer } from '../src/index.ts';
import { hasOpenssl, makeCert, type TestCert } from './support/cert.ts';
import { binaryOf, MiB, sameBytes, textOf } from './support/payloads.ts';
import { Inbox, within } from './support/wait.ts';

const echo = (conn: WebSocketConnection): void => {
  conn.onmessage = (data) => conn.send(data);
};

describe.skipIf(!hasOpenssl)('wss:// with a self-signed certificate', () => {
  let cert: TestCert;
  let server: WebSocketServer;

  beforeAll(async () => {
    cert = makeCert();
    server = await serve({ tls: { key: cert.key, cert: cert.cert }, handler: echo, maxMessage: 32 * MiB, maxPayload: 32 * MiB });
  });
  afterAll(async () => {
    await server?.close();
    cert?.dispose();
  });

  test('the server reports a wss:// URL', () => {
    expect(server.url).toBe(`wss://127.0.0.1:${server.port}/`);
  });

  test('a client trusting the certificate (ca) echoes text and binary up to 16 MiB', async () => {
    const conn = await connect(server.url, { proxy: false, ca: cert.cert, maxMessage: 32 * MiB, maxPayload: 32 * MiB });
    const inbox = new Inbox(conn);
    for (const size of [0, 125, 126, 65536, MiB, 16 * MiB]) {
      const bytes = binaryOf(size, size + 3);
      conn.send(bytes);
      expect(sameBytes((await inbox.next(20_000)) as Uint8Array, bytes)).toBe(true);
    }
    const text = textOf(MiB);
    conn.send(text);
    expect((await inbox.next()) === text).toBe(true);
    conn.close({ closeCode: 1000, reason: 'tls done' });
    expect(await within(conn.closed, 3000, 'close')).toEqual({ closeCode: 1000, reason: 'tls done', wasClean: true });
  }, 40_000);

  test('the host name is checked: wss://localhost matches the certificate', async () => {
    const conn = await connect(`wss://localhost:${server.port}/`, { proxy: false, ca: cert.cert });
    conn.close();
    expect((await within(conn.closed, 3000, 'close')).wasClean).toBe(true);
  });

  test('a certificate for another name fails the handshake (servername checked)', async () => {
    const error = await connect(server.url, { proxy: false, ca: cert.cert, servername: 'other.example', handshakeTimeout: 3000 }).catch((e: unknown) => e);
    expect(String(error)).toMatch(/altnames|hostname/i);
  });

  test('a client that does not trust the certificate fails the handshake', async () => {
    const error = await connect(server.url, { proxy: false, handshakeTimeout: 3000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toMatch(/self.signed|certificate/i);
  });

  test('rejectUnauthorized: false accepts it (for tests only)', async () => {
    const conn = await connect(server.url, { proxy: false, rejectUnauthorized: false });
    const inbox = new Inbox(conn);
    conn.send('insecure but encrypted');
    expect(await inbox.next()).toBe('insecure but encrypted');
    conn.close();
    await conn.closed;
  });

  test('server-initiated close over TLS ends cleanly on both sides', async () => {
    const closing = await serve({ tls: { key: cert.key, cert: cert.cert }, handler: (c) => c.close({ closeCode: 4100, reason: 'tls bye' }) });
    try {
      const conn = await connect(closing.url, { proxy: false, ca: cert.cert });
      conn.onmessage = () => {};
      expect(await within(conn.closed, 3000, 'close')).toEqual({ closeCode: 4100, reason: 'tls bye', wasClean: true });
    } finally {
      await closing.close();
    }
  });

  test("Bun's built-in WebSocket client speaks to our wss:// server", async () => {
    // Bun's constructor takes a Bun-only options object as second argument.
    const BunWebSocket = WebSocket as unknown as new (url: string, options: { tls: { ca: string } }) => WebSocket;
    const ws = new BunWebSocket(server.url, { tls: { ca: cert.cert } });
    ws.binaryType = 'arraybuffer';
    await within(new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = reject))), 3000, 'open');
    const message = within(new Promise<unknown>((resolve) => (ws.onmessage = (event) => resolve(event.data))), 3000, 'message');
    ws.send('over TLS');
    expect(await message).toBe('over TLS');
    const closed = within(new Promise<CloseEvent>((resolve) => (ws.onclose = resolve)), 3000, 'close');
    ws.close(4321, 'tls client bye');
    const event = await closed;
    expect([event.code, event.reason, event.wasClean]).toEqual([4321, 'tls client bye', true]);
  });

  test('a plain ws:// client talking to the TLS port gets no WebSocket', async () => {
    const error = await connect(`ws://127.0.0.1:${server.port}/`, { proxy: false, handshakeTimeout: 2000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
  });
});
