// The WHATWG facade as every runtime exports it (written once, run under Node, Deno and
// Bun through `#shim`): the behaviours the web-platform tests found missing — the Web IDL
// shape, bufferedAmount counting application bytes, credentials in the URL, and
// WebSocketStream's receive backpressure over wss://.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketStream, runtime, serve, type WebSocketConnection } from './support/shim.ts';
import { hasOpenssl, makeCertificates } from './support/certs.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Options = NonNullable<Parameters<typeof serve>[0]>;

async function start(handler: NonNullable<Options['handler']>, options: Options = {}): Promise<{ url: string; port: number }> {
  const server = await serve({ ...options, handler });
  cleanups.push(() => server.close());
  return server;
}

const echo = (conn: WebSocketConnection): void => {
  conn.onmessage = (data) => conn.send(data);
};

function message(ws: InstanceType<typeof WebSocket>): Promise<MessageEvent> {
  return new Promise((resolve) => ws.addEventListener('message', (event) => resolve(event as MessageEvent), { once: true }));
}

function closed(ws: InstanceType<typeof WebSocket>): Promise<void> {
  return new Promise((resolve) => ws.addEventListener('close', () => resolve(), { once: true }));
}

describe(`the WHATWG facade on ${runtime}`, () => {
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
    const server = await start(echo, { perMessageDeflate: true });
    const ws = new WebSocket(server.url);
    await new Promise((resolve) => (ws.onopen = resolve));
    expect(ws.extensions).toContain('permessage-deflate');
    ws.send('a'.repeat(65_000));
    // The frame on the wire is under 100 bytes, and the socket may have taken it at once.
    expect(ws.bufferedAmount).toBe(65_000);
    await Promise.resolve();
    expect(ws.bufferedAmount).toBe(65_000);
    const echoed = await message(ws);
    expect((echoed.data as string).length).toBe(65_000);
    expect(ws.bufferedAmount).toBe(0);
    ws.close();
    await closed(ws);
  });

  it("sends the URL's user info as Basic Authorization", async () => {
    const seen: Array<string | undefined> = [];
    const server = await start((conn, request) => {
      seen.push(request.headers.get('authorization') ?? undefined);
      conn.close();
    });
    const url = new URL(server.url);
    url.username = 'user';
    url.password = 'p%40ss';
    const ws = new WebSocket(url.href);
    await closed(ws);
    expect(seen).toEqual([`Basic ${btoa('user:p@ss')}`]);
  });

  // Diagnostics: the error event is an ErrorEvent whose message and error say why the
  // connection failed; the events and their order stay the standard's (error, close 1006).
  async function failure(ws: InstanceType<typeof WebSocket>): Promise<{ message: string; error: unknown; log: string[] }> {
    const log: string[] = [];
    let event: { message: string; error: unknown } | undefined;
    ws.addEventListener('error', (e) => {
      log.push('error');
      event = e as unknown as { message: string; error: unknown };
    });
    ws.addEventListener('open', () => log.push('open'));
    await new Promise<void>((resolve) =>
      ws.addEventListener('close', (e) => {
        log.push(`close ${(e as CloseEvent).code}`);
        resolve();
      }),
    );
    expect(event).toBeDefined();
    return { message: event!.message, error: event!.error, log };
  }

  it('the error event says the connection was refused', async () => {
    const server = await serve({ handler: () => {} });
    const url = server.url;
    await server.close();
    const { message, error, log } = await failure(new WebSocket(url));
    expect(log).toEqual(['error', 'close 1006']);
    expect(error).toBeInstanceOf(Error);
    expect(message).toContain(`WebSocket connection to '${url}' failed: ${(error as Error).message}`);
    // Refused (Deno may see the closed listener's backlog reset instead).
    expect(message).toMatch(/refused|reset/i);
  });

  it('the error event says the host name did not resolve', { timeout: 20_000 }, async () => {
    const { message, error, log } = await failure(new WebSocket('ws://no-such-host.invalid/'));
    expect(log).toEqual(['error', 'close 1006']);
    expect(message).toMatch(/^WebSocket connection to 'ws:\/\/no-such-host\.invalid\/' failed: ./);
    expect(error).toBeInstanceOf(Error);
  });

  it.skipIf(!hasOpenssl)('the error event carries the TLS failure of an untrusted certificate', async () => {
    const certs = makeCertificates();
    const server = await start(() => {}, { tls: { cert: certs.cert, key: certs.key } });
    const { message, error, log } = await failure(new WebSocket(`wss://localhost:${server.port}/`));
    expect(log).toEqual(['error', 'close 1006']);
    expect(message).toMatch(/failed: ./);
    expect(error).toBeInstanceOf(Error);
    expect(message).toMatch(/cert|issuer|trust|verif|UnknownIssuer/i);
  });

  it('the error event carries the HTTP status of a refused handshake', async () => {
    const server = await start(() => {}, { authorize: () => ({ status: 403, body: 'not you' }) });
    const { message, error, log } = await failure(new WebSocket(server.url));
    expect(log).toEqual(['error', 'close 1006']);
    expect(message).toMatch(/403/);
    expect((error as { status?: number }).status).toBe(403);
  });

  it('the error event carries the limit that was hit (1009)', async () => {
    const server = await start((conn) => void conn.send('x'.repeat(100)));
    const { message, error, log } = await failure(new WebSocket(server.url, { maxPayload: 10 } as never));
    expect(log).toEqual(['open', 'error', 'close 1006']);
    expect(message).toMatch(/\(close code 1009\)$/);
    expect((error as { closeCode?: number }).closeCode).toBe(1009);
  });

  // The kernel holds part of what the server offers, however well the client pauses: the
  // receive buffer autotunes up to net.ipv4.tcp_rmem's maximum (32 MiB on common Linux
  // hosts), the send buffer up to tcp_wmem's (4 MiB). 16 MiB offered was within that, so the
  // server finished now and then although the client had paused (Bun's large reads grow the
  // receive buffer fastest). 64 MiB is more than client, kernel and server can hold together,
  // and the server's progress is read once it has stopped moving, not at a fixed time.
  it.skipIf(!hasOpenssl)('WebSocketStream holds the server back over wss:// while nothing is read', { timeout: 40_000 }, async () => {
    const certs = makeCertificates();
    const total = 256;
    let written = 0;
    const server = await start(
      (conn) => {
        void (async () => {
          const writer = conn.writable.getWriter();
          const chunk = new Uint8Array(256 * 1024);
          for (let i = 0; i < total; i++) {
            await writer.write(chunk);
            written++;
          }
        })().catch(() => {});
      },
      { tls: { cert: certs.cert, key: certs.key } },
    );
    const wss = new WebSocketStream(`wss://localhost:${server.port}/`, { ca: [certs.ca], proxy: false } as never);
    const { readable } = await wss.opened;
    // Nothing read until the server has made no progress for half a second (at most 10 s).
    let seen = -1;
    for (let waited = 0; waited < 10_000 && written !== seen && written < total; waited += 500) {
      seen = written;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(written).toBeLessThan(total);
    const reader = readable.getReader();
    for (let i = 0; i < total; i++) expect((await reader.read()).value).toHaveLength(256 * 1024);
    expect(written).toBe(total);
    wss.close();
    await wss.closed;
  });
});
