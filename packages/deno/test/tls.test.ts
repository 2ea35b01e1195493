// wss:// with a certificate chain made at test time: our server and client, our client
// against Deno's own TLS WebSocket server, and a certificate the client does not trust.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, serve, type WebSocketServer } from '../src/index.ts';
import { makeCertificates, type TestCertificates } from './support/certs.ts';
import { ramp } from './support/raw.ts';

describe('wss://', () => {
  let certs: TestCertificates;
  let server: WebSocketServer;

  beforeAll(async () => {
    certs = await makeCertificates();
    server = await serve({
      tls: { cert: certs.cert, key: certs.key },
      handler: (conn) => {
        conn.onmessage = (data) => conn.send(data);
      },
      fetch: (request) => new Response(`plain over TLS: ${new URL(request.url).protocol}`),
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('serves wss:// and reports a wss URL', () => {
    expect(server.url).toBe(`wss://127.0.0.1:${server.port}/`);
  });

  it('echoes between our server and our client over TLS, trusting the test CA', async () => {
    const conn = await connect(`wss://localhost:${server.port}/`, { ca: [certs.ca], proxy: false });
    const big = ramp(300_000);
    const got: unknown[] = [];
    const done = new Promise<void>((resolve) => {
      conn.onmessage = (data) => {
        got.push(data);
        if (got.length === 2) resolve();
      };
    });
    conn.send('secure hello');
    conn.send(big);
    await done;
    expect(got[0]).toBe('secure hello');
    expect(got[1]).toEqual(big);
    conn.close({ closeCode: 1000, reason: 'done' });
    expect(await conn.closed).toEqual({ closeCode: 1000, reason: 'done', wasClean: true });
  });

  it('connects by IP address when the certificate names it', async () => {
    const conn = await connect(server.url, { ca: [certs.ca], proxy: false });
    conn.close();
    expect((await conn.closed).wasClean).toBe(true);
  });

  it('the client refuses a certificate it does not trust', async () => {
    await expect(connect(`wss://localhost:${server.port}/`, { proxy: false, handshakeTimeout: 5000 })).rejects.toThrow();
  });

  it('answers plain HTTPS through the fallback', async () => {
    const client = Deno.createHttpClient({ caCerts: [certs.ca] });
    try {
      const response = await fetch(`https://localhost:${server.port}/x`, { client });
      expect(await response.text()).toBe('plain over TLS: https:');
    } finally {
      client.close();
    }
  });

  it('our client talks to Deno.serve + Deno.upgradeWebSocket over TLS', async () => {
    const native = Deno.serve({ port: 0, hostname: '127.0.0.1', cert: certs.cert, key: certs.key, onListen: () => {} }, (request) => {
      const { socket, response } = Deno.upgradeWebSocket(request);
      socket.onmessage = (event) => socket.send(event.data);
      return response;
    });
    try {
      const conn = await connect(`wss://localhost:${native.addr.port}/`, { ca: [certs.ca], proxy: false });
      const echoed = new Promise((resolve) => (conn.onmessage = resolve));
      conn.send('through rustls both ways');
      expect(await echoed).toBe('through rustls both ways');
      conn.close({ closeCode: 1000 });
      expect((await conn.closed).closeCode).toBe(1000);
    } finally {
      await native.shutdown();
    }
  });
});
