// Interop with independent implementations: our client against Deno's native server
// (Deno.serve + Deno.upgradeWebSocket), Deno's built-in WebSocket client against our
// server, and Python's `websockets` against our server when it is installed.
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { connect, serve, type Message, type WebSocketConnection, type WebSocketServer } from '../src/index.ts';
import { asciiOf, ramp, until } from './support/raw.ts';

const MiB = 1024 * 1024;

describe('our client against Deno.serve + Deno.upgradeWebSocket', () => {
  let native: Deno.HttpServer<Deno.NetAddr>;
  let closes: Array<{ code: number; reason: string }> = [];

  beforeAll(() => {
    native = Deno.serve({ port: 0, hostname: '127.0.0.1', onListen: () => {} }, (request) => {
      const protocols = (request.headers.get('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
      const { socket, response } = Deno.upgradeWebSocket(request, protocols.includes('echo.v1') ? { protocol: 'echo.v1' } : {});
      socket.binaryType = 'arraybuffer';
      socket.onmessage = (event) => {
        if (event.data === 'close me') socket.close(4002, 'as you wish');
        else socket.send(event.data);
      };
      socket.onclose = (event) => closes.push({ code: event.code, reason: event.reason });
      return response;
    });
  });

  afterAll(async () => {
    await native?.shutdown();
  });

  const url = () => `ws://127.0.0.1:${native.addr.port}/`;

  function roundTrip(conn: WebSocketConnection, data: Message): Promise<Message> {
    return new Promise((resolve) => {
      conn.onmessage = resolve;
      conn.send(data);
    });
  }

  it('echoes text and binary of every length class, up to 16 MiB', { timeout: 30_000 }, async () => {
    const conn = await connect(url(), { maxMessage: 32 * MiB, maxPayload: 32 * MiB, proxy: false });
    for (const size of [0, 125, 126, 65535, 65536, MiB, 16 * MiB]) {
      const data = ramp(size);
      const echoed = (await roundTrip(conn, data)) as Uint8Array;
      expect(echoed.length).toBe(size);
      expect(echoed.subarray(0, 1000)).toEqual(data.subarray(0, 1000));
      expect(echoed.subarray(size - 1000 > 0 ? size - 1000 : 0)).toEqual(data.subarray(size - 1000 > 0 ? size - 1000 : 0));
      const text = asciiOf(size);
      expect((await roundTrip(conn, text)) === text).toBe(true);
    }
    conn.close({ closeCode: 1000, reason: 'bye native' });
    expect(await conn.closed).toEqual({ closeCode: 1000, reason: 'bye native', wasClean: true });
    await until(() => closes.length > 0);
    expect(closes.at(-1)).toEqual({ code: 1000, reason: 'bye native' });
  });

  it('negotiates a subprotocol with the native server', async () => {
    const conn = await connect(url(), { protocols: ['x', 'echo.v1'], proxy: false });
    expect(conn.protocol).toBe('echo.v1');
    conn.close();
    await conn.closed;
  });

  it('sees the native server close with its code and reason', async () => {
    const conn = await connect(url(), { proxy: false });
    conn.send('close me');
    expect(await conn.closed).toEqual({ closeCode: 4002, reason: 'as you wish', wasClean: true });
  });

  it('gets the native server Pong for its Ping', async () => {
    const conn = await connect(url(), { proxy: false });
    const pong = new Promise<Uint8Array>((resolve) => (conn.onpong = resolve));
    conn.ping('native?');
    expect(new TextDecoder().decode(await pong)).toBe('native?');
    conn.close();
    await conn.closed;
  });
});

describe("Deno's built-in WebSocket client against our server", () => {
  let server: WebSocketServer;
  const serverCloses: Array<{ closeCode: number; reason: string }> = [];

  beforeAll(async () => {
    server = await serve({
      maxMessage: 32 * MiB,
      maxPayload: 32 * MiB,
      handleProtocols: (offered) => offered.find((p) => p === 'chat') ?? null,
      handler: (conn) => {
        conn.onmessage = (data) => {
          if (data === 'close please') conn.close({ closeCode: 4100, reason: 'server-initiated' });
          else conn.send(data);
        };
        void conn.closed.then((info) => serverCloses.push(info));
      },
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  function open(protocols?: string[]): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(server.url, protocols);
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => resolve(ws);
      ws.onerror = () => reject(new Error('native client failed to open'));
    });
  }

  function next(ws: WebSocket): Promise<string | ArrayBuffer> {
    return new Promise((resolve) => (ws.onmessage = (event) => resolve(event.data)));
  }

  it('echoes text and binary of every length class, up to 16 MiB', { timeout: 30_000 }, async () => {
    const ws = await open();
    for (const size of [0, 125, 126, 65535, 65536, MiB, 16 * MiB]) {
      const data = ramp(size);
      let got = next(ws);
      ws.send(data);
      const echoed = new Uint8Array((await got) as ArrayBuffer);
      expect(echoed.length).toBe(size);
      expect(echoed.subarray(0, 1000)).toEqual(data.subarray(0, 1000));
      const text = asciiOf(size);
      got = next(ws);
      ws.send(text);
      expect((await got) === text).toBe(true);
    }
    const closed = new Promise<CloseEvent>((resolve) => (ws.onclose = resolve));
    ws.close(4000, 'native says bye');
    const event = await closed;
    expect([event.code, event.reason, event.wasClean]).toEqual([4000, 'native says bye', true]);
    await until(() => serverCloses.length > 0);
    expect(serverCloses.at(-1)).toMatchObject({ closeCode: 4000, reason: 'native says bye' });
  });

  it('selects the subprotocol the native client offered', async () => {
    const ws = await open(['other', 'chat']);
    expect(ws.protocol).toBe('chat');
    const closed = new Promise<CloseEvent>((resolve) => (ws.onclose = resolve));
    ws.close();
    await closed;
  });

  it('closes with a server code and reason the native client sees', async () => {
    const ws = await open();
    const closed = new Promise<CloseEvent>((resolve) => (ws.onclose = resolve));
    ws.send('close please');
    const event = await closed;
    expect([event.code, event.reason, event.wasClean]).toEqual([4100, 'server-initiated', true]);
  });
});

describe("Python's websockets against our server", () => {
  it('echoes, fragments, pings and closes with Python as the client', { timeout: 30_000 }, async (ctx: TestContext) => {
    const python = '/usr/bin/python3';
    const probe = await new Deno.Command(python, { args: ['-c', 'import websockets'], stdout: 'null', stderr: 'null' })
      .output()
      .catch(() => null);
    if (probe === null || probe.code !== 0) ctx.skip('python3 with websockets is not installed');
    const server = await serve({
      handler: (conn) => {
        conn.onmessage = (data) => conn.send(data);
      },
    });
    try {
      // The asyncio API, present in every websockets release since 8.
      const script = `
import asyncio, sys, websockets
async def main():
    async with websockets.connect(sys.argv[1], max_size=2**24) as ws:
        await ws.send("hello from python")
        assert await ws.recv() == "hello from python"
        await ws.send(bytes(range(256)) * 1000)
        assert await ws.recv() == bytes(range(256)) * 1000
        await ws.send(["frag", "mented ", "text"])
        assert await ws.recv() == "fragmented text"
        await asyncio.wait_for(await ws.ping(b"py"), 5)
        await ws.close(4444, "python done")
        assert ws.close_code == 4444, ws.close_code
asyncio.run(main())
print("ok")
`;
      const { code, stdout, stderr } = await new Deno.Command(python, { args: ['-c', script, server.url], stdout: 'piped', stderr: 'piped' }).output();
      const out = new TextDecoder().decode(stdout).trim();
      if (code !== 0) throw new Error(new TextDecoder().decode(stderr));
      expect(out).toBe('ok');
    } finally {
      await server.close();
    }
  });
});
