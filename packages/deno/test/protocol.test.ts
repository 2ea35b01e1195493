// Frames on the wire: fragmented messages from a raw peer, pings and pongs, and the
// closing handshake with codes and reasons, each in a server/client pair.
import { describe, expect, it } from 'vitest';
import { connect, serve, type Message, type WebSocketConnection } from '../src/index.ts';
import { Op, closePayload, frame, parseClose, rawClient, rawServer, send, SAMPLE_ACCEPT, until } from './support/raw.ts';

const text = (s: string) => new TextEncoder().encode(s);

async function echoServer() {
  return await serve({
    handler: (conn) => {
      conn.onmessage = (data) => conn.send(data);
    },
  });
}

describe('fragmented messages', () => {
  it('server reassembles a fragmented text message from a raw client, with a Ping between fragments', async () => {
    const server = await echoServer();
    try {
      const { conn, reader, head } = await rawClient(server.port);
      expect(head).toContain('HTTP/1.1 101 Switching Protocols');
      expect(head).toContain(`Sec-WebSocket-Accept: ${SAMPLE_ACCEPT}`);
      // "héllo wörld" split inside the two-octet "é": fragments need not end on characters.
      const bytes = text('héllo wörld');
      await send(conn, frame(Op.Text, bytes.subarray(0, 2), { fin: false, mask: true }));
      await send(conn, frame(Op.Ping, 'mid', { mask: true }));
      await send(conn, frame(Op.Continuation, bytes.subarray(2, 7), { fin: false, mask: true }));
      await send(conn, frame(Op.Continuation, bytes.subarray(7), { mask: true }));
      const pong = await reader.frame();
      expect(pong).toMatchObject({ fin: true, opcode: Op.Pong, masked: false });
      expect(new TextDecoder().decode(pong!.payload)).toBe('mid');
      const echo = await reader.frame();
      expect(echo).toMatchObject({ fin: true, opcode: Op.Text, masked: false });
      expect(new TextDecoder().decode(echo!.payload)).toBe('héllo wörld');
      await send(conn, frame(Op.Close, closePayload(1000), { mask: true }));
      const close = await reader.frame();
      expect(close?.opcode).toBe(Op.Close);
      expect(parseClose(close!.payload).code).toBe(1000);
      expect(await reader.frame()).toBeNull(); // the server closes the TCP connection first
      conn.close();
    } finally {
      await server.close();
    }
  });

  it('server reassembles a binary message in 1000 one-byte fragments, all written at once', async () => {
    const server = await echoServer();
    try {
      const { conn, reader } = await rawClient(server.port);
      const parts: Uint8Array[] = [];
      for (let i = 0; i < 1000; i++) parts.push(frame(i === 0 ? Op.Binary : Op.Continuation, new Uint8Array([i & 0xff]), { fin: i === 999, mask: true }));
      const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        all.set(p, at);
        at += p.length;
      }
      await send(conn, all);
      const echo = await reader.frame();
      expect(echo?.opcode).toBe(Op.Binary);
      expect(echo?.payload.length).toBe(1000);
      expect(echo?.payload[999]).toBe(999 & 0xff);
      conn.close();
    } finally {
      await server.close();
    }
  });

  it('server fails an unmasked frame from a client with 1002', async () => {
    const server = await echoServer();
    try {
      const { conn, reader } = await rawClient(server.port);
      await send(conn, frame(Op.Text, 'no mask'));
      const close = await reader.frame();
      expect(close?.opcode).toBe(Op.Close);
      expect(parseClose(close!.payload).code).toBe(1002);
      conn.close();
    } finally {
      await server.close();
    }
  });

  it('server fails invalid UTF-8 in a text message with 1007', async () => {
    const server = await echoServer();
    try {
      const { conn, reader } = await rawClient(server.port);
      await send(conn, frame(Op.Text, new Uint8Array([0x68, 0xc3, 0x28]), { mask: true }));
      const close = await reader.frame();
      expect(parseClose(close!.payload).code).toBe(1007);
      conn.close();
    } finally {
      await server.close();
    }
  });

  it('server reads frames that came in the same packet as the upgrade request', async () => {
    const server = await echoServer();
    try {
      const conn = await Deno.connect({ hostname: '127.0.0.1', port: server.port });
      const request = new TextEncoder().encode(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
      const early = frame(Op.Text, 'right behind the head', { mask: true });
      const both = new Uint8Array(request.length + early.length);
      both.set(request);
      both.set(early, request.length);
      await send(conn, both);
      const { RawReader } = await import('./support/raw.ts');
      const reader = new RawReader(conn);
      expect(await reader.head()).toContain('101');
      const echo = await reader.frame();
      expect(new TextDecoder().decode(echo!.payload)).toBe('right behind the head');
      conn.close();
    } finally {
      await server.close();
    }
  });

  it('client reassembles a fragmented binary message from a raw server, and the bytes after the 101', async () => {
    const raw = rawServer(async (conn, reader) => {
      await send(conn, frame(Op.Binary, new Uint8Array([1, 2]), { fin: false }));
      await send(conn, frame(Op.Pong, 'unsolicited'));
      await send(conn, frame(Op.Continuation, new Uint8Array([3]), { fin: false }));
      await send(conn, frame(Op.Continuation, new Uint8Array([4, 5])));
      const echo = await reader.frame();
      expect(echo?.masked).toBe(true);
      expect(echo?.payload).toEqual(new Uint8Array([1, 2, 3, 4, 5]));
      await send(conn, frame(Op.Close, closePayload(4001, 'script done')));
      expect((await reader.frame())?.opcode).toBe(Op.Close);
    });
    const conn = await connect(`ws://127.0.0.1:${raw.port}/`, { proxy: false });
    const pongs: Uint8Array[] = [];
    conn.onpong = (payload) => pongs.push(payload);
    conn.onmessage = (data) => conn.send(data);
    const info = await conn.closed;
    await raw.done;
    expect(info).toEqual({ closeCode: 4001, reason: 'script done', wasClean: true });
    expect(new TextDecoder().decode(pongs[0])).toBe('unsolicited');
  });

  it('client fails a masked frame from a server with 1002', async () => {
    const raw = rawServer(async (conn, reader) => {
      await send(conn, frame(Op.Text, 'masked', { mask: true }));
      const close = await reader.frame();
      expect(close?.opcode).toBe(Op.Close);
      expect(parseClose(close!.payload).code).toBe(1002);
    });
    const conn = await connect(`ws://127.0.0.1:${raw.port}/`, { proxy: false });
    const errors: Error[] = [];
    conn.onerror = (error) => errors.push(error);
    const info = await conn.closed;
    await raw.done;
    // The client failed the connection: no Close came back, so it reports 1006 (RFC 6455 §7.1.5).
    expect(info).toEqual({ closeCode: 1006, reason: '', wasClean: false });
    expect(errors.length).toBe(1);
    expect((errors[0] as Error & { closeCode?: number }).closeCode).toBe(1002);
  });
});

describe('ping and pong', () => {
  it('server answers a Ping with a Pong carrying its payload', async () => {
    const server = await echoServer();
    try {
      const { conn, reader } = await rawClient(server.port);
      await send(conn, frame(Op.Ping, 'are you there', { mask: true }));
      const pong = await reader.frame();
      expect(pong?.opcode).toBe(Op.Pong);
      expect(new TextDecoder().decode(pong!.payload)).toBe('are you there');
      conn.close();
    } finally {
      await server.close();
    }
  });

  it('client ping() gets the server Pong; the server sees the Ping', async () => {
    let serverPings: Uint8Array[] = [];
    const server = await serve({
      handler: (conn) => {
        conn.onping = (payload) => serverPings.push(payload);
      },
    });
    try {
      const conn = await connect(server.url, { proxy: false });
      const pong = new Promise<Uint8Array>((resolve) => (conn.onpong = resolve));
      expect(conn.ping('hello?')).toBe(true);
      expect(new TextDecoder().decode(await pong)).toBe('hello?');
      await until(() => serverPings.length === 1);
      expect(new TextDecoder().decode(serverPings[0])).toBe('hello?');
      serverPings = [];
      conn.close();
      await conn.closed;
    } finally {
      await server.close();
    }
  });

  it('server ping() gets the client Pong', async () => {
    let serverSide: WebSocketConnection | null = null;
    const server = await serve({ handler: (conn) => void (serverSide = conn) });
    try {
      const client = await connect(server.url, { proxy: false });
      await until(() => serverSide !== null);
      const pong = new Promise<Uint8Array>((resolve) => (serverSide!.onpong = resolve));
      serverSide!.ping(new Uint8Array([9, 8, 7]));
      expect(await pong).toEqual(new Uint8Array([9, 8, 7]));
      client.close();
      await client.closed;
    } finally {
      await server.close();
    }
  });
});

describe('closing handshake', () => {
  async function pair() {
    let resolveServerSide!: (conn: WebSocketConnection) => void;
    const serverSide = new Promise<WebSocketConnection>((resolve) => (resolveServerSide = resolve));
    const server = await serve({ handler: (conn) => resolveServerSide(conn) });
    const client = await connect(server.url, { proxy: false });
    return { server, client, serverConn: await serverSide };
  }

  it('client closes with a code and reason; both ends see them, cleanly', async () => {
    const { server, client, serverConn } = await pair();
    try {
      client.close({ closeCode: 4321, reason: 'client says bye ✓' });
      expect(client.state).toBe('closing');
      const [atClient, atServer] = await Promise.all([client.closed, serverConn.closed]);
      expect(atServer).toEqual({ closeCode: 4321, reason: 'client says bye ✓', wasClean: true });
      expect(atClient).toEqual({ closeCode: 4321, reason: 'client says bye ✓', wasClean: true });
    } finally {
      await server.close();
    }
  });

  it('server closes with a code and reason; both ends see them, cleanly', async () => {
    const { server, client, serverConn } = await pair();
    try {
      serverConn.close({ closeCode: 1000, reason: 'server done' });
      const [atClient, atServer] = await Promise.all([client.closed, serverConn.closed]);
      expect(atClient).toEqual({ closeCode: 1000, reason: 'server done', wasClean: true });
      expect(atServer).toEqual({ closeCode: 1000, reason: 'server done', wasClean: true });
    } finally {
      await server.close();
    }
  });

  it('a close without a code is reported as 1005 on both ends', async () => {
    const { server, client, serverConn } = await pair();
    try {
      client.close();
      expect((await serverConn.closed).closeCode).toBe(1005);
      expect((await client.closed).closeCode).toBe(1005);
    } finally {
      await server.close();
    }
  });

  it('a dropped TCP connection is 1006 for the server, not clean', async () => {
    const server = await serve({ handler: () => {} });
    try {
      const { conn } = await rawClient(server.port);
      await until(() => server.connections.size === 1);
      const [serverConn] = [...server.connections];
      conn.close();
      expect(await serverConn.closed).toEqual({ closeCode: 1006, reason: '', wasClean: false });
    } finally {
      await server.close();
    }
  });

  it('close() refuses a code that may not be sent', async () => {
    const { server, client } = await pair();
    try {
      expect(() => client.close({ closeCode: 1005 })).toThrow(RangeError);
      expect(() => client.close({ closeCode: 1000, reason: 'x'.repeat(124) })).toThrow(RangeError);
      client.close();
      await client.closed;
    } finally {
      await server.close();
    }
  });

  it('the server drops a peer that never answers its Close after closeTimeout', async () => {
    const server = await serve({ closeTimeout: 200, handler: (conn) => conn.close({ closeCode: 1000 }) });
    try {
      const { conn, reader } = await rawClient(server.port);
      const close = await reader.frame();
      expect(close?.opcode).toBe(Op.Close);
      // The raw client neither answers nor closes: the server hangs up by itself.
      const started = Date.now();
      expect(await reader.frame()).toBeNull();
      expect(Date.now() - started).toBeLessThan(3000);
      conn.close();
    } finally {
      await server.close();
    }
  });

  it('messages sent after close() are not sent', async () => {
    const received: Message[] = [];
    const server = await serve({ handler: (conn) => void (conn.onmessage = (data) => received.push(data)) });
    try {
      const client = await connect(server.url, { proxy: false });
      client.send('before');
      client.close();
      expect(client.send('after')).toBe(false);
      await client.closed;
      expect(received).toEqual(['before']);
    } finally {
      await server.close();
    }
  });
});
