// The client through an HTTP CONNECT proxy: plain and with Basic credentials, ws:// and
// wss:// (TLS started inside the tunnel), refusals, and the proxy environment variables.
import { afterEach, describe, expect, test } from 'vitest';
import { connect, ProxyError, proxyFromEnvironment, serve, type WebSocketConnection } from '../src/index.ts';
import { hasOpenssl, makeCert } from './support/cert.ts';
import { binaryOf, sameBytes } from './support/payloads.ts';
import { startProxy } from './support/proxy.ts';
import { Inbox, within } from './support/wait.ts';

const echo = (conn: WebSocketConnection): void => {
  conn.onmessage = (data) => conn.send(data);
};

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function roundTrip(conn: WebSocketConnection): Promise<void> {
  const inbox = new Inbox(conn);
  conn.send('through the tunnel');
  expect(await inbox.next()).toBe('through the tunnel');
  const bytes = binaryOf(300_000);
  conn.send(bytes);
  expect(sameBytes((await inbox.next()) as Uint8Array, bytes)).toBe(true);
  conn.close({ closeCode: 1000, reason: 'via proxy' });
  expect(await within(conn.closed, 3000, 'close')).toEqual({ closeCode: 1000, reason: 'via proxy', wasClean: true });
}

describe('connect through an HTTP CONNECT proxy', () => {
  test('ws:// goes through the tunnel', async () => {
    const server = await serve({ handler: echo });
    cleanups.push(() => server.close());
    const proxy = startProxy();
    cleanups.push(() => proxy.stop());
    const conn = await connect(server.url, { proxy: proxy.url });
    expect(proxy.requests).toEqual([{ target: `127.0.0.1:${server.port}`, authorization: undefined }]);
    await roundTrip(conn);
  });

  test('credentials in the proxy URL are sent as Basic Proxy-Authorization', async () => {
    const server = await serve({ handler: echo });
    cleanups.push(() => server.close());
    const proxy = startProxy({ user: 'alice', password: 's3cret' });
    cleanups.push(() => proxy.stop());
    const conn = await connect(server.url, { proxy: `http://alice:s3cret@127.0.0.1:${proxy.port}` });
    expect(proxy.requests[0].authorization).toBe(`Basic ${btoa('alice:s3cret')}`);
    await roundTrip(conn);
  });

  test('a proxy that refuses (407) rejects with a ProxyError carrying its status', async () => {
    const server = await serve({ handler: echo });
    cleanups.push(() => server.close());
    const proxy = startProxy({ user: 'alice', password: 's3cret' });
    cleanups.push(() => proxy.stop());
    const error = await connect(server.url, { proxy: proxy.url }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProxyError);
    expect((error as ProxyError).status).toBe(407);
  });

  test('a proxy that cannot reach the target answers 502', async () => {
    const proxy = startProxy();
    cleanups.push(() => proxy.stop());
    const error = await connect('ws://127.0.0.1:1/', { proxy: proxy.url }).catch((e: unknown) => e);
    expect((error as ProxyError).status).toBe(502);
  });

  test.skipIf(!hasOpenssl)('wss:// starts TLS inside the tunnel and checks the certificate', async () => {
    const cert = makeCert();
    cleanups.push(() => cert.dispose());
    const server = await serve({ tls: { key: cert.key, cert: cert.cert }, handler: echo });
    cleanups.push(() => server.close());
    const proxy = startProxy();
    cleanups.push(() => proxy.stop());
    const conn = await connect(`wss://localhost:${server.port}/`, { proxy: proxy.url, ca: cert.cert });
    expect(proxy.requests[0].target).toBe(`localhost:${server.port}`);
    await roundTrip(conn);
    const untrusted = await connect(`wss://localhost:${server.port}/`, { proxy: proxy.url, handshakeTimeout: 3000 }).catch((e: unknown) => e);
    expect(String(untrusted)).toMatch(/self.signed|certificate/i);
  });
});

describe('the proxy environment', () => {
  test('proxyFromEnvironment applies HTTP_PROXY, HTTPS_PROXY and NO_PROXY', () => {
    const env = { HTTP_PROXY: 'http://p:3128', HTTPS_PROXY: 'secure-proxy:8443', NO_PROXY: 'internal.example' };
    expect(proxyFromEnvironment(new URL('ws://example.com/'), env)?.href).toBe('http://p:3128/');
    expect(proxyFromEnvironment(new URL('wss://example.com/'), env)?.href).toBe('http://secure-proxy:8443/');
    expect(proxyFromEnvironment(new URL('ws://api.internal.example/'), env)).toBe(null);
  });

  test('connect uses HTTP_PROXY from Bun.env unless proxy: false', async () => {
    const server = await serve({ handler: echo });
    cleanups.push(() => server.close());
    const proxy = startProxy();
    cleanups.push(() => proxy.stop());
    const env = process.env;
    const saved = { http: env.HTTP_PROXY, lower: env.http_proxy, no: env.NO_PROXY, noLower: env.no_proxy };
    env.http_proxy = proxy.url;
    delete env.HTTP_PROXY;
    delete env.NO_PROXY;
    delete env.no_proxy;
    try {
      const viaEnv = await connect(server.url);
      expect(proxy.requests.length).toBe(1);
      viaEnv.close();
      await viaEnv.closed;
      const direct = await connect(server.url, { proxy: false });
      expect(proxy.requests.length).toBe(1);
      direct.close();
      await direct.closed;
    } finally {
      const restore = (name: string, value: string | undefined): void => {
        if (value === undefined) delete env[name];
        else env[name] = value;
      };
      restore('HTTP_PROXY', saved.http);
      restore('http_proxy', saved.lower);
      restore('NO_PROXY', saved.no);
      restore('no_proxy', saved.noLower);
    }
  });
});
