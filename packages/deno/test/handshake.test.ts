// The opening handshake on both ends: subprotocols, Origin, the upgrade hook, plain HTTP
// (426 or the fetch-style fallback), malformed and slow requests, and the heartbeat.
import { describe, expect, it } from 'vitest';
import { HandshakeError } from '@wsflow/codec';
import { connect, serve, type AuthorizeRequest, type RejectionInfo } from '../src/index.ts';
import { RawReader, rawClient, rawServer, send, until } from './support/raw.ts';

/** Sends raw bytes and returns everything the server answers until it closes. */
async function exchange(port: number, request: string): Promise<string> {
  const conn = await Deno.connect({ hostname: '127.0.0.1', port });
  try {
    await send(conn, request);
    return await new RawReader(conn).all();
  } finally {
    conn.close();
  }
}

describe('subprotocols', () => {
  it('the server selects with handleProtocols and the client sees it', async () => {
    const offeredSeen: string[][] = [];
    const server = await serve({
      handleProtocols: (offered, request) => {
        offeredSeen.push(offered);
        expect(request).toBeInstanceOf(Request);
        return offered.includes('chat.v2') ? 'chat.v2' : null;
      },
      handler: () => {},
    });
    try {
      const conn = await connect(server.url, { protocols: ['chat.v1', 'chat.v2'], proxy: false });
      expect(conn.protocol).toBe('chat.v2');
      expect(offeredSeen).toEqual([['chat.v1', 'chat.v2']]);
      await until(() => server.connections.size === 1);
      expect([...server.connections][0].protocol).toBe('chat.v2');
      conn.close();
      await conn.closed;
      const none = await connect(server.url, { protocols: 'other', proxy: false });
      expect(none.protocol).toBe('');
      none.close();
      await none.closed;
    } finally {
      await server.close();
    }
  });

  it('the client fails a server that selects a subprotocol it did not offer', async () => {
    const raw = rawServer(async () => {});
    // The raw server answers without Sec-WebSocket-Protocol; forge one with a second raw server.
    raw.close();
    await raw.done.catch(() => {});
    const listener = Deno.listen({ hostname: '127.0.0.1', port: 0 });
    const served = (async () => {
      const conn = await listener.accept();
      const reader = new RawReader(conn);
      const request = await reader.head();
      const key = /sec-websocket-key:\s*(\S+)/i.exec(request)![1];
      const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`));
      const accept = btoa(String.fromCharCode(...new Uint8Array(digest)));
      await send(conn, `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: evil\r\n\r\n`);
      await reader.all().catch(() => '');
      conn.close();
    })();
    const port = (listener.addr as Deno.NetAddr).port;
    const error = await connect(`ws://127.0.0.1:${port}/`, { protocols: 'good', proxy: false }).catch((e: unknown) => e);
    listener.close();
    await served;
    expect(error).toBeInstanceOf(HandshakeError);
    expect((error as HandshakeError).code).toBe('BAD_PROTOCOL');
  });
});

describe('refusals', () => {
  it('refuses an Origin not in allowedOrigins with 403, and reports it', async () => {
    const rejections: RejectionInfo[] = [];
    const server = await serve({ allowedOrigins: ['https://good.example'], onReject: (info) => rejections.push(info), handler: () => {} });
    try {
      const error = await connect(server.url, { origin: 'https://evil.example', proxy: false }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HandshakeError);
      expect((error as HandshakeError).status).toBe(403);
      const { head } = await rawClient(server.port, ['Origin: https://evil.example']);
      expect(head.startsWith('HTTP/1.1 403 Forbidden\r\n')).toBe(true);
      expect(rejections[0]).toMatchObject({ status: 403, code: 'FORBIDDEN_ORIGIN' });
      expect(rejections[0].request).toBeInstanceOf(Request);
      const ok = await connect(server.url, { origin: 'https://good.example', proxy: false });
      ok.close();
      await ok.closed;
    } finally {
      await server.close();
    }
  });

  it('the upgrade hook refuses with 401 and its headers and body', async () => {
    const seen: AuthorizeRequest[] = [];
    const server = await serve({
      authorize: async (request) => {
        seen.push(request);
        await new Promise((resolve) => setTimeout(resolve, 10));
        if (request.cookies.session === 'valid') return undefined;
        return { status: 401, headers: { 'WWW-Authenticate': 'Bearer' }, body: 'sign in first' };
      },
      handler: () => {},
    });
    try {
      const answer = await exchange(
        server.port,
        'GET /secure?room=7 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nCookie: session=stale; theme=dark\r\n\r\n',
      );
      expect(answer.startsWith('HTTP/1.1 401 Unauthorized\r\n')).toBe(true);
      expect(answer).toContain('WWW-Authenticate: Bearer\r\n');
      expect(answer.endsWith('\r\n\r\nsign in first')).toBe(true);
      expect(seen[0].url.href).toBe('ws://127.0.0.1/secure?room=7');
      expect(seen[0].cookies).toEqual({ session: 'stale', theme: 'dark' });
      expect(seen[0].remoteAddress).toBe('127.0.0.1');
      expect(seen[0].headers.get('cookie')).toBe('session=stale; theme=dark');

      const error = await connect(server.url, { proxy: false }).catch((e: unknown) => e);
      expect((error as HandshakeError).status).toBe(401);
      const ok = await connect(server.url, { headers: { Cookie: 'session=valid' }, proxy: false });
      ok.close();
      await ok.closed;
    } finally {
      await server.close();
    }
  });

  it('a hook that throws refuses with 500', async () => {
    const rejections: RejectionInfo[] = [];
    const server = await serve({
      authorize: () => {
        throw new Error('database down');
      },
      onReject: (info) => rejections.push(info),
    });
    try {
      const error = await connect(server.url, { proxy: false }).catch((e: unknown) => e);
      expect((error as HandshakeError).status).toBe(500);
      expect(rejections[0]).toMatchObject({ status: 500, code: 'HOOK_FAILED' });
    } finally {
      await server.close();
    }
  });

  it('answers plain HTTP with 426 naming the protocol spoken here', async () => {
    const server = await serve({ handler: () => {} });
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/`);
      expect(response.status).toBe(426);
      expect(response.headers.get('upgrade')).toBe('websocket');
      expect(response.headers.get('sec-websocket-version')).toBe('13');
      expect(await response.text()).toBe('This server speaks WebSocket only\n');
    } finally {
      await server.close();
    }
  });

  it('refuses a wrong Sec-WebSocket-Version with 426, a bad key with 400, another path with 400', async () => {
    const server = await serve({ path: '/ws', handler: () => {} });
    try {
      const version = await rawClient(server.port, [], '/ws');
      version.conn.close();
      expect(version.head).toContain('101');
      const wrongVersion = await exchange(
        server.port,
        'GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n',
      );
      expect(wrongVersion).toMatch(/^HTTP\/1\.1 426 /);
      expect(wrongVersion).toContain('Sec-WebSocket-Version: 13');
      const badKey = await exchange(
        server.port,
        'GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
      expect(badKey).toMatch(/^HTTP\/1\.1 400 /);
      const otherPath = await rawClient(server.port, [], '/other');
      otherPath.conn.close();
      expect(otherPath.head).toMatch(/^HTTP\/1\.1 400 /);
    } finally {
      await server.close();
    }
  });

  it('refuses a malformed head with 400 and an oversized one with 431', async () => {
    const rejections: RejectionInfo[] = [];
    const server = await serve({ maxHeadSize: 1024, onReject: (info) => rejections.push(info) });
    try {
      expect(await exchange(server.port, 'GET / HTTP/1.1\nHost: a\n\n')).toMatch(/^HTTP\/1\.1 400 /);
      expect(await exchange(server.port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'x'.repeat(2000)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431 /);
      expect(rejections.map((r) => r.code)).toEqual(['MALFORMED_HEAD', 'HEAD_TOO_LARGE']);
    } finally {
      await server.close();
    }
  });

  it('drops a client that sends its head too slowly (handshakeTimeout)', async () => {
    const rejections: RejectionInfo[] = [];
    const server = await serve({ handshakeTimeout: 200, onReject: (info) => rejections.push(info) });
    try {
      const conn = await Deno.connect({ hostname: '127.0.0.1', port: server.port });
      await send(conn, 'GET / HTTP/1.1\r\nHost: a\r\n');
      const started = Date.now();
      const rest = await new RawReader(conn).all().catch(() => '');
      conn.close();
      expect(rest).toBe('');
      expect(Date.now() - started).toBeLessThan(2000);
      expect(rejections[0]).toMatchObject({ status: 0, code: 'TIMEOUT' });
    } finally {
      await server.close();
    }
  });

  it('the client rejects with HandshakeError BAD_STATUS carrying the status', async () => {
    const server = await serve({ authorize: () => ({ status: 503 }) });
    try {
      const error = await connect(server.url, { proxy: false }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HandshakeError);
      expect(error).toMatchObject({ code: 'BAD_STATUS', status: 503 });
    } finally {
      await server.close();
    }
  });

  it('the client times out against a server that never answers', async () => {
    const listener = Deno.listen({ hostname: '127.0.0.1', port: 0 });
    const held: Deno.Conn[] = [];
    const accepting = (async () => {
      try {
        held.push(await listener.accept());
      } catch {
        /* closed */
      }
    })();
    try {
      const error = await connect(`ws://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/`, { handshakeTimeout: 150, proxy: false }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DOMException);
      expect((error as DOMException).name).toBe('TimeoutError');
    } finally {
      listener.close();
      await accepting;
      for (const conn of held) conn.close();
    }
  });

  it('the client can be aborted with a signal, and refuses bad URLs', async () => {
    const controller = new AbortController();
    controller.abort(new Error('not wanted'));
    await expect(connect('ws://127.0.0.1:9/', { signal: controller.signal, proxy: false })).rejects.toThrow('not wanted');
    await expect(connect('http://127.0.0.1/', { proxy: false })).rejects.toThrow(SyntaxError);
    await expect(connect('ws://127.0.0.1/#frag', { proxy: false })).rejects.toThrow(SyntaxError);
  });
});

describe('the fetch-style fallback', () => {
  it('answers plain requests with the Response, and still upgrades WebSocket requests', async () => {
    const server = await serve({
      fetch: async (request, info) => {
        const url = new URL(request.url);
        if (url.pathname === '/echo') {
          return new Response(await request.text(), { status: 201, headers: { 'X-Method': request.method, 'Set-Cookie': 'a=1' } });
        }
        if (url.pathname === '/fail') throw new Error('intentional failure');
        return new Response(`hello from ${info.remoteAddress} at ${url.pathname}`);
      },
      handler: (conn) => {
        conn.onmessage = (data) => conn.send(data);
      },
    });
    try {
      const plain = await fetch(`http://127.0.0.1:${server.port}/page`);
      expect(plain.status).toBe(200);
      expect(await plain.text()).toBe('hello from 127.0.0.1 at /page');

      const posted = await fetch(`http://127.0.0.1:${server.port}/echo`, { method: 'POST', body: 'the body', headers: { 'Content-Length': '8' } });
      expect(posted.status).toBe(201);
      expect(posted.headers.get('x-method')).toBe('POST');
      expect(posted.headers.get('set-cookie')).toBe('a=1');
      expect(await posted.text()).toBe('the body');

      const head = await exchange(server.port, 'HEAD /page HTTP/1.1\r\nHost: a\r\n\r\n');
      // Response#statusText is '' by default: the status line carries the registered phrase.
      expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(head.endsWith('\r\n\r\n')).toBe(true);

      const raw = await exchange(server.port, 'GET /page HTTP/1.1\r\nHost: a\r\n\r\n');
      expect(raw).toContain("Content-Length: 29\r\n");
      expect(raw).toContain('Connection: close\r\n');

      // The failure is logged with console.error, as Deno.serve does: capture it here.
      const logged: unknown[][] = [];
      const original = console.error;
      console.error = (...args: unknown[]) => void logged.push(args);
      try {
        const failed = await fetch(`http://127.0.0.1:${server.port}/fail`);
        expect(failed.status).toBe(500);
        await failed.body?.cancel();
      } finally {
        console.error = original;
      }
      expect(String(logged[0]?.[1])).toContain('intentional failure');

      const conn = await connect(server.url, { proxy: false });
      const echoed = new Promise((resolve) => (conn.onmessage = resolve));
      conn.send('still a WebSocket server');
      expect(await echoed).toBe('still a WebSocket server');
      conn.close();
      await conn.closed;
    } finally {
      await server.close();
    }
  });

  it('refuses a body over maxBodySize with 413', async () => {
    const server = await serve({ maxBodySize: 10, fetch: () => new Response('ok') });
    try {
      const answer = await exchange(server.port, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n0123456789a');
      expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    } finally {
      await server.close();
    }
  });
});

describe('heartbeat', () => {
  it('the server drops a peer that stops answering Pings', async () => {
    const server = await serve({ heartbeat: { interval: 100, timeout: 100 }, handler: () => {} });
    try {
      // A raw client that never answers anything.
      const { conn, reader } = await rawClient(server.port);
      await until(() => server.connections.size === 1);
      const [serverConn] = [...server.connections];
      const ping = await reader.frame();
      expect(ping?.opcode).toBe(9);
      const started = Date.now();
      const info = await serverConn.closed;
      expect(info).toEqual({ closeCode: 1006, reason: '', wasClean: false });
      expect(Date.now() - started).toBeLessThan(2000);
      conn.close();
    } finally {
      await server.close();
    }
  });

  it('a live client keeps its connection through several heartbeats', async () => {
    const server = await serve({ heartbeat: { interval: 50, timeout: 100 }, handler: () => {} });
    try {
      const client = await connect(server.url, { proxy: false });
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(client.state).toBe('open');
      expect(server.connections.size).toBe(1);
      client.close();
      await client.closed;
    } finally {
      await server.close();
    }
  });
});
