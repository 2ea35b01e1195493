// Our Deno server and our Deno client, echoing text and binary messages of every length
// class (7-bit, 16-bit and 64-bit length fields, their edges) both ways.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, serve, type Message, type WebSocketConnection, type WebSocketServer } from '../src/index.ts';
import { asciiOf, ramp, unicodeOf, until } from './support/raw.ts';

const MiB = 1024 * 1024;

/** Sends `data` and resolves with the next message. */
function roundTrip(conn: WebSocketConnection, data: Message): Promise<Message> {
  return new Promise((resolve) => {
    conn.onmessage = (message) => resolve(message);
    conn.send(data);
  });
}

describe('echo between the Deno server and the Deno client', () => {
  let server: WebSocketServer;
  let client: WebSocketConnection;

  beforeAll(async () => {
    server = await serve({
      maxMessage: 32 * MiB,
      maxPayload: 32 * MiB,
      handler: (conn) => {
        conn.onmessage = (data) => conn.send(data);
      },
    });
    client = await connect(server.url, { maxMessage: 32 * MiB, maxPayload: 32 * MiB, proxy: false });
  });

  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  it('listens on loopback and reports its URL and port', () => {
    expect(server.url).toBe(`ws://127.0.0.1:${server.port}/`);
    expect(server.port).toBeGreaterThan(0);
  });

  it('tracks the open connection', async () => {
    await until(() => server.connections.size === 1);
    expect(client.state).toBe('open');
  });

  for (const size of [0, 125, 126, 65535, 65536, MiB]) {
    it(`echoes a ${size}-byte binary message`, async () => {
      const data = ramp(size);
      const echoed = await roundTrip(client, data);
      expect(echoed).toBeInstanceOf(Uint8Array);
      expect((echoed as Uint8Array).length).toBe(size);
      expect(echoed).toEqual(data);
    });

    it(`echoes a ${size}-byte text message`, async () => {
      const text = asciiOf(size);
      const echoed = await roundTrip(client, text);
      expect(typeof echoed).toBe('string');
      expect(echoed).toBe(text);
    });
  }

  it('echoes multi-byte UTF-8 text intact', async () => {
    const text = unicodeOf(10_000);
    expect(await roundTrip(client, text)).toBe(text);
  });

  it('echoes a 16 MiB binary message with maxMessage raised', { timeout: 30_000 }, async () => {
    const data = ramp(16 * MiB);
    const echoed = (await roundTrip(client, data)) as Uint8Array;
    expect(echoed.length).toBe(16 * MiB);
    // Compare in slices: a whole-array deep equality on 16 MiB is slow.
    for (let at = 0; at < data.length; at += MiB) {
      expect(echoed.subarray(at, at + 64)).toEqual(data.subarray(at, at + 64));
    }
    let same = true;
    for (let i = 0; i < data.length; i++) if (echoed[i] !== data[i]) same = false;
    expect(same).toBe(true);
  });

  it('echoes a 16 MiB text message with maxMessage raised', { timeout: 30_000 }, async () => {
    const text = asciiOf(16 * MiB);
    const echoed = await roundTrip(client, text);
    expect((echoed as string).length).toBe(text.length);
    expect(echoed === text).toBe(true);
  });

  it('keeps the order of many messages sent at once', async () => {
    const received: Message[] = [];
    const done = new Promise<void>((resolve) => {
      client.onmessage = (message) => {
        received.push(message);
        if (received.length === 1000) resolve();
      };
    });
    for (let i = 0; i < 1000; i++) client.send(i % 2 === 0 ? `m${i}` : new Uint8Array([i & 0xff, i >> 8]));
    await done;
    for (let i = 0; i < 1000; i++) {
      expect(received[i]).toEqual(i % 2 === 0 ? `m${i}` : new Uint8Array([i & 0xff, i >> 8]));
    }
  });

  it('delivers messages that arrived before onmessage was set', async () => {
    const conn = await connect(server.url, { proxy: false });
    conn.send('early one');
    conn.send('early two');
    // Let the echoes arrive with nobody listening.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const got: Message[] = [];
    conn.onmessage = (message) => got.push(message);
    await until(() => got.length === 2);
    expect(got).toEqual(['early one', 'early two']);
    conn.close();
    expect((await conn.closed).wasClean).toBe(true);
  });

  it('streams messages through readable and writable', async () => {
    const conn = await connect(server.url, { proxy: false });
    const writer = conn.writable.getWriter();
    const reader = conn.readable.getReader();
    await writer.write('via streams');
    await writer.write(new Uint8Array([1, 2, 3]));
    expect((await reader.read()).value).toBe('via streams');
    expect((await reader.read()).value).toEqual(new Uint8Array([1, 2, 3]));
    await writer.close();
    expect((await reader.read()).done).toBe(true);
    expect((await conn.closed).closeCode).toBe(1005);
  });

  it('a slow readable consumer loses nothing and keeps the order (read backpressure)', { timeout: 20_000 }, async () => {
    const burst = await serve({
      handler: (conn) => {
        for (let i = 0; i < 200; i++) conn.send(ramp(64 * 1024).fill(i & 0xff, 0, 1));
        conn.close({ closeCode: 1000, reason: 'burst done' });
      },
    });
    try {
      const conn = await connect(burst.url, { proxy: false, readableHighWaterMark: 2 });
      let n = 0;
      const reader = conn.readable.getReader();
      for (let result = await reader.read(); !result.done; result = await reader.read()) {
        const message = result.value;
        expect((message as Uint8Array)[0]).toBe(n & 0xff);
        expect((message as Uint8Array).length).toBe(64 * 1024);
        n++;
        if (n % 50 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(n).toBe(200);
      expect(await conn.closed).toEqual({ closeCode: 1000, reason: 'burst done', wasClean: true });
    } finally {
      await burst.close();
    }
  });

  it('writable waits for the socket to drain (write backpressure) and delivers everything', { timeout: 20_000 }, async () => {
    let received = 0;
    const sink = await serve({ handler: (conn) => void (conn.onmessage = () => void received++) });
    try {
      const conn = await connect(sink.url, { proxy: false, writableHighWaterMark: 256 * 1024 });
      const writer = conn.writable.getWriter();
      const chunk = ramp(128 * 1024);
      for (let i = 0; i < 100; i++) {
        await writer.write(chunk);
        expect(conn.bufferedAmount).toBeLessThanOrEqual(256 * 1024 + chunk.length + 16);
      }
      await until(() => received === 100, 10_000);
      await writer.close();
      expect((await conn.closed).wasClean).toBe(true);
    } finally {
      await sink.close();
    }
  });

  it('refuses a message over the server maxMessage with 1009', async () => {
    const small = await serve({ maxMessage: 1000, handler: () => {} });
    try {
      const conn = await connect(small.url, { proxy: false });
      conn.send(new Uint8Array(1001));
      const info = await conn.closed;
      expect(info.closeCode).toBe(1009);
    } finally {
      await small.close();
    }
  });
});

describe('serve without a handler', () => {
  it('hands connections to an async iterator, with the request', async () => {
    const server = await serve({});
    try {
      const client = await connect(`${server.url}room?x=1`, { proxy: false, headers: { 'X-Test': 'yes' } });
      for await (const { connection, request } of server) {
        expect(new URL(request.url).pathname).toBe('/room');
        expect(new URL(request.url).search).toBe('?x=1');
        expect(request.headers.get('x-test')).toBe('yes');
        connection.onmessage = (data) => connection.send(`re: ${String(data)}`);
        break;
      }
      expect(await roundTrip(client, 'hi')).toBe('re: hi');
      client.close();
      await client.closed;
    } finally {
      await server.close();
    }
  });

  it('close() says 1001 Going Away to open connections and resolves once they are closed', async () => {
    const server = await serve({ handler: () => {} });
    const client = await connect(server.url, { proxy: false });
    await until(() => server.connections.size === 1);
    await server.close();
    const info = await client.closed;
    expect(info).toEqual({ closeCode: 1001, reason: '', wasClean: true });
    expect(server.connections.size).toBe(0);
    await expect(connect(server.url, { proxy: false, handshakeTimeout: 2000 })).rejects.toThrow();
  });
});
