// The client through HTTP CONNECT proxies: explicit, from the environment, with
// credentials, refused, misbehaving, and wss:// through the tunnel.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, proxyFromEnvironment, ProxyError, serve, type WebSocketServer } from '../src/index.ts';
import { makeCertificates } from './support/certs.ts';
import { startProxy } from './support/proxy.ts';

describe('CONNECT proxies', () => {
  let server: WebSocketServer;

  beforeAll(async () => {
    server = await serve({
      handler: (conn) => {
        conn.onmessage = (data) => conn.send(data);
      },
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  async function echoOnce(url: string, options: Parameters<typeof connect>[1]): Promise<unknown> {
    const conn = await connect(url, options);
    const echoed = new Promise((resolve) => (conn.onmessage = resolve));
    conn.send('through the tunnel');
    const result = await echoed;
    conn.close();
    await conn.closed;
    return result;
  }

  it('tunnels ws:// through the proxy option', async () => {
    const proxy = startProxy();
    try {
      expect(await echoOnce(server.url, { proxy: proxy.url })).toBe('through the tunnel');
      expect(proxy.requests[0]).toMatch(new RegExp(`^CONNECT 127\\.0\\.0\\.1:${server.port} HTTP/1\\.1\\r\\nHost: 127\\.0\\.0\\.1:${server.port}\\r\\n`));
    } finally {
      await proxy.close();
    }
  });

  it('sends Basic credentials from the proxy URL; without them the proxy refuses with 407', async () => {
    const proxy = startProxy({ credentials: 'alice:s3cret é' });
    try {
      const error = await connect(server.url, { proxy: proxy.url }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProxyError);
      expect((error as ProxyError).status).toBe(407);
      // UTF-8 credentials: btoa of the UTF-8 bytes, as RFC 7617 with charset=UTF-8.
      const utf8 = new TextEncoder().encode('alice:s3cret é');
      const proxy2 = startProxy({ credentials: String.fromCharCode(...utf8) });
      try {
        const url = `http://alice:${encodeURIComponent('s3cret é')}@127.0.0.1:${proxy2.port}`;
        expect(await echoOnce(server.url, { proxy: url })).toBe('through the tunnel');
      } finally {
        await proxy2.close();
      }
    } finally {
      await proxy.close();
    }
  });

  it('refuses a proxy that speaks before the target did', async () => {
    const proxy = startProxy({ trailing: 'garbage' });
    try {
      const error = await connect(server.url, { proxy: proxy.url }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProxyError);
      expect((error as ProxyError).status).toBe(0);
    } finally {
      await proxy.close();
    }
  });

  it('takes HTTP_PROXY from the environment and honours NO_PROXY', async () => {
    const proxy = startProxy();
    const saved = { HTTP_PROXY: Deno.env.get('HTTP_PROXY'), NO_PROXY: Deno.env.get('NO_PROXY'), http_proxy: Deno.env.get('http_proxy'), no_proxy: Deno.env.get('no_proxy') };
    try {
      Deno.env.delete('http_proxy');
      Deno.env.delete('no_proxy');
      Deno.env.set('HTTP_PROXY', proxy.url);
      Deno.env.delete('NO_PROXY');
      expect(proxyFromEnvironment(new URL(server.url))?.href).toBe(`${proxy.url}/`);
      expect(await echoOnce(server.url, {})).toBe('through the tunnel');
      expect(proxy.requests.length).toBe(1);
      Deno.env.set('NO_PROXY', 'localhost,127.0.0.1');
      expect(proxyFromEnvironment(new URL(server.url))).toBeNull();
      expect(await echoOnce(server.url, {})).toBe('through the tunnel');
      expect(proxy.requests.length).toBe(1);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) Deno.env.delete(name);
        else Deno.env.set(name, value);
      }
      await proxy.close();
    }
  });

  it('reads an explicit environment record too', () => {
    const url = new URL('wss://api.example.com/');
    expect(proxyFromEnvironment(url, { HTTPS_PROXY: 'proxy:3128' })?.href).toBe('http://proxy:3128/');
    expect(proxyFromEnvironment(url, { HTTPS_PROXY: 'proxy:3128', NO_PROXY: '.example.com' })).toBeNull();
    expect(proxyFromEnvironment(url, { HTTP_PROXY: 'proxy:3128' })).toBeNull();
  });

  it('starts TLS inside the tunnel for wss://', { timeout: 30_000 }, async () => {
    const certs = await makeCertificates();
    const secure = await serve({
      tls: { cert: certs.cert, key: certs.key },
      handler: (conn) => {
        conn.onmessage = (data) => conn.send(data);
      },
    });
    const proxy = startProxy();
    try {
      expect(await echoOnce(`wss://localhost:${secure.port}/`, { proxy: proxy.url, ca: [certs.ca] })).toBe('through the tunnel');
      expect(proxy.requests[0]).toMatch(/^CONNECT localhost:\d+ HTTP\/1\.1/);
    } finally {
      await proxy.close();
      await secure.close();
    }
  });

  it('refuses wss:// through an https: proxy (TLS inside TLS) up front', async () => {
    await expect(connect('wss://localhost:1/', { proxy: 'https://127.0.0.1:1' })).rejects.toThrow(TypeError);
  });
});
