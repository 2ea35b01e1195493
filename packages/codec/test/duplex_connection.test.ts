// A client and a server WebSocketConnection over an in-memory duplex pair, through the
// opening handshake over byte streams: messages both ways, the closing handshake both
// ways, protocol violations, read backpressure that reaches the peer's writes, cancel
// with a close code, refused handshakes, bytes that follow a handshake head, and the
// close and handshake timeouts on injected (fake) timers.
import { describe, expect, it } from 'vitest';
import { acceptKey } from '../src/accept_key.ts';
import { buildClientRequest } from '../src/client_handshake.ts';
import type { Timers, WebSocketConnection } from '../src/connection.ts';
import { Opcode } from '../src/constants.ts';
import { clientHandshake, DuplexTransport, openConnection, serverHandshake, type ByteDuplex, type DuplexClientOptions, type DuplexServerOptions } from '../src/duplex.ts';
import { HandshakeError } from '../src/errors.ts';
import { makeFrame } from '../src/frame.ts';
import { serializeFrame } from '../src/frame_serializer.ts';
import { HttpHeadParser } from '../src/http_head.ts';
import { createDuplexPair, type DuplexPairOptions } from '../src/memory_duplex.ts';
import { concatBytes, hex, toHex } from './helpers.ts';

const URL_ = 'ws://server.example.com/chat';
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const latin1 = (b: Uint8Array): string => String.fromCharCode(...b);

/** Lets pending stream work run: a few macrotask turns. */
async function idle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** Timers that fire only when told to. */
class FakeTimers implements Timers {
  #next = 1;
  readonly pending = new Map<number, { callback: () => void; ms: number }>();

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.#next++;
    this.pending.set(id, { callback, ms });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** The delays of the timers armed and not yet fired or cleared. */
  get delays(): number[] {
    return [...this.pending.values()].map((t) => t.ms);
  }

  /** Fires every pending timer armed with `ms`. */
  fire(ms: number): void {
    for (const [id, timer] of [...this.pending]) {
      if (timer.ms !== ms) continue;
      this.pending.delete(id);
      timer.callback();
    }
  }
}

interface Setup {
  client?: DuplexClientOptions;
  server?: DuplexServerOptions;
  pair?: DuplexPairOptions;
  /** Wraps the client's end of the pair (e.g. to inject or count bytes). */
  clientEnd?: (duplex: ByteDuplex) => ByteDuplex;
  serverEnd?: (duplex: ByteDuplex) => ByteDuplex;
}

async function connect(setup: Setup = {}): Promise<{ client: WebSocketConnection; server: WebSocketConnection }> {
  const [a, b] = createDuplexPair(setup.pair);
  const [client, server] = await Promise.all([
    clientHandshake(setup.clientEnd?.(a) ?? a, URL_, setup.client),
    serverHandshake(setup.serverEnd?.(b) ?? b, setup.server),
  ]);
  return { client, server };
}

/** Echoes every message back until the connection closes. */
function echo(conn: WebSocketConnection): void {
  const reader = conn.readable.getReader();
  const writer = conn.writable.getWriter();
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      await writer.write(value);
    }
  })().catch(() => {});
}

async function take<T>(reader: ReadableStreamDefaultReader<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  while (out.length < n) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended after ${out.length} of ${n} values`);
    out.push(value);
  }
  return out;
}

const shown = (messages: Array<string | Uint8Array>) => messages.map((m) => (typeof m === 'string' ? m : { binary: toHex(m) }));

/** A duplex whose writable also lets the test write raw bytes (`inject`) between the connection's writes. */
function injectable(duplex: ByteDuplex): { duplex: ByteDuplex; inject: (bytes: Uint8Array) => Promise<void> } {
  const raw = duplex.writable.getWriter();
  return {
    duplex: {
      readable: duplex.readable,
      writable: new WritableStream<Uint8Array>({
        write: (chunk) => raw.write(chunk),
        close: () => raw.close(),
        abort: (reason) => raw.abort(reason),
      }),
    },
    inject: (bytes) => raw.write(bytes),
  };
}

/** Reads a duplex's readable to its end, as text (for HTTP answers). */
async function readToEnd(readable: ReadableStream<Uint8Array>): Promise<string> {
  const reader = readable.getReader();
  let text = '';
  for (let r = await reader.read(); !r.done; r = await reader.read()) text += latin1(r.value);
  return text;
}

// RFC 6455 §1.3: the key of the example and its accept value.
const RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const RFC_101 =
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n';

describe('client <-> server over a duplex pair: messages', () => {
  it('negotiates a subprotocol and echoes text, binary, Blob and ArrayBufferView messages', async () => {
    const { client, server } = await connect({
      client: { protocols: ['chat', 'superchat'] },
      server: { handleProtocols: (offered) => offered[1] },
    });
    expect(client.protocol).toBe('superchat');
    expect(server.protocol).toBe('superchat');
    expect(client.extensions).toBe('');
    echo(server);
    const writer = client.writable.getWriter();
    const reader = client.readable.getReader();
    const buffer = new Uint8Array([9, 8, 7, 6]).buffer;
    await writer.write('héllo 😀');
    await writer.write(new Uint8Array([1, 2, 3]));
    await writer.write(new Blob(['blob', new Uint8Array([0])]));
    await writer.write(new DataView(buffer, 1, 2));
    await writer.write(buffer);
    await writer.write('');
    expect(shown(await take(reader, 6))).toEqual([
      'héllo 😀',
      { binary: '01 02 03' },
      { binary: '62 6c 6f 62 00' },
      { binary: '08 07' },
      { binary: '09 08 07 06' },
      '',
    ]);
    client.close({ closeCode: 1000 });
    await Promise.all([client.closed, server.closed]);
  });

  it('delivers large messages both ways, masked by the client and not by the server', async () => {
    const { client, server } = await connect();
    echo(server);
    const big = new Uint8Array(200_000).map((_, i) => (i * 31) & 0xff);
    client.send(big);
    client.send('x'.repeat(70_000));
    const got = await take(client.readable.getReader(), 2);
    expect(got[0]).toEqual(big);
    expect(got[1]).toBe('x'.repeat(70_000));
    client.close();
    await client.closed;
  });

  it('delivers to onmessage set after the handshake resolved, and to send() in order', async () => {
    const { client, server } = await connect();
    const got: Array<string | Uint8Array> = [];
    server.onmessage = (data) => server.send(data);
    client.onmessage = (data) => got.push(data);
    for (let i = 0; i < 20; i++) client.send(`m${i}`);
    await idle(10);
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    client.close();
    await Promise.all([client.closed, server.closed]);
  });
});

describe('client <-> server over a duplex pair: the closing handshake (RFC 6455 §7)', () => {
  it('client closes with a code and reason: both ends resolve closed cleanly with the Close each received', async () => {
    const { client, server } = await connect();
    const serverReader = server.readable.getReader();
    const clientReader = client.readable.getReader();
    client.close({ closeCode: 4001, reason: 'client bye' });
    const [c, s] = await Promise.all([client.closed, server.closed]);
    // The server echoes the code (RFC 6455 §5.5.1) and the reason.
    expect(s).toEqual({ closeCode: 4001, reason: 'client bye', wasClean: true });
    expect(c).toEqual({ closeCode: 4001, reason: 'client bye', wasClean: true });
    expect((await serverReader.read()).done).toBe(true);
    expect((await clientReader.read()).done).toBe(true);
  });

  it('server closes with a code and reason: both ends resolve closed cleanly with the Close each received', async () => {
    const { client, server } = await connect();
    const clientReader = client.readable.getReader();
    server.readable.getReader();
    server.close({ closeCode: 4002, reason: 'server bye' });
    const [c, s] = await Promise.all([client.closed, server.closed]);
    expect(c).toEqual({ closeCode: 4002, reason: 'server bye', wasClean: true });
    expect(s).toEqual({ closeCode: 4002, reason: 'server bye', wasClean: true });
    expect((await clientReader.read()).done).toBe(true);
  });

  it('a Close without a code is reported as 1005 on both ends', async () => {
    const { client, server } = await connect();
    server.readable.getReader();
    await client.writable.close();
    expect(await client.closed).toEqual({ closeCode: 1005, reason: '', wasClean: true });
    expect(await server.closed).toEqual({ closeCode: 1005, reason: '', wasClean: true });
  });

  it('close() on a connection never read from still reads the peer\'s Close', async () => {
    const { client, server } = await connect();
    server.readable.getReader();
    client.close({ closeCode: 1000, reason: 'done' });
    expect(await client.closed).toEqual({ closeCode: 1000, reason: 'done', wasClean: true });
    expect(await server.closed).toEqual({ closeCode: 1000, reason: 'done', wasClean: true });
  });

  it('cancelling readable with a reason carrying closeCode 4000 closes with 4000', async () => {
    const { client, server } = await connect();
    server.readable.getReader();
    await client.readable.cancel({ closeCode: 4000, reason: 'enough' });
    expect(await server.closed).toEqual({ closeCode: 4000, reason: 'enough', wasClean: true });
    expect(await client.closed).toEqual({ closeCode: 4000, reason: 'enough', wasClean: true });
  });

  it('aborting writable with a reason carrying a closeCode closes with it', async () => {
    const { client, server } = await connect();
    server.readable.getReader();
    client.readable.getReader();
    await client.writable.abort({ closeCode: 4003, reason: 'aborted' });
    expect(await server.closed).toEqual({ closeCode: 4003, reason: 'aborted', wasClean: true });
  });

  it('a dropped transport is 1006 on the other end, whose readable errors', async () => {
    const { client, server } = await connect();
    const serverReader = server.readable.getReader();
    client.abort();
    expect(await client.closed).toEqual({ closeCode: 1006, reason: '', wasClean: false });
    expect(await server.closed).toEqual({ closeCode: 1006, reason: '', wasClean: false });
    expect(await rejection(serverReader.read())).toMatchObject({ name: 'ConnectionClosedError', closeCode: 1006 });
  });
});

describe('client <-> server over a duplex pair: protocol violations (RFC 6455 §7.1.7)', () => {
  it('server fails an unmasked client frame with 1002; the client sees 1002 in its closed', async () => {
    let inject!: (bytes: Uint8Array) => Promise<void>;
    const { client, server } = await connect({
      clientEnd: (d) => {
        const i = injectable(d);
        inject = i.inject;
        return i.duplex;
      },
    });
    const serverReader = server.readable.getReader();
    const clientReader = client.readable.getReader();
    // RFC 6455 §5.1: a client MUST mask every frame; this one is not masked.
    await inject(hex('81 02 68 69'));
    const c = await client.closed;
    expect(c).toMatchObject({ closeCode: 1002, wasClean: true });
    expect(c.reason).toContain('mask');
    // The server failed the connection: it received no Close of its own, so 1006 (RFC 6455 §7.1.5).
    expect(await server.closed).toEqual({ closeCode: 1006, reason: '', wasClean: false });
    expect(await rejection(serverReader.read())).toMatchObject({ closeCode: 1006 });
    expect((await clientReader.read()).done).toBe(true);
  });

  it('client fails a masked server frame with 1002; the server sees 1002 in its closed', async () => {
    let inject!: (bytes: Uint8Array) => Promise<void>;
    const { client, server } = await connect({
      serverEnd: (d) => {
        const i = injectable(d);
        inject = i.inject;
        return i.duplex;
      },
    });
    server.readable.getReader();
    client.readable.getReader();
    // RFC 6455 §5.1: a server MUST NOT mask; this frame is masked (key 0).
    await inject(hex('81 82 00 00 00 00 68 69'));
    const s = await server.closed;
    expect(s).toMatchObject({ closeCode: 1002, wasClean: true });
    expect(await client.closed).toEqual({ closeCode: 1006, reason: '', wasClean: false });
  });

  it('client fails invalid UTF-8 from the server with 1007', async () => {
    let inject!: (bytes: Uint8Array) => Promise<void>;
    const { client, server } = await connect({
      serverEnd: (d) => {
        const i = injectable(d);
        inject = i.inject;
        return i.duplex;
      },
    });
    server.readable.getReader();
    client.readable.getReader();
    await inject(hex('81 02 c3 28'));
    expect(await server.closed).toMatchObject({ closeCode: 1007, wasClean: true });
  });

  it('server fails a message over maxMessage with 1009', async () => {
    const { client, server } = await connect({ server: { maxMessage: 1000 } });
    server.readable.getReader();
    client.readable.getReader();
    client.send(new Uint8Array(1001));
    expect(await client.closed).toMatchObject({ closeCode: 1009, wasClean: true });
  });
});

describe('client <-> server over a duplex pair: backpressure', () => {
  it('a client that does not read stalls the server\'s writes; nothing is lost when it reads again', async () => {
    const HWM = 16 * 1024;
    const N = 1000;
    const SIZE = 1024;
    let pulled = 0;
    const { client, server } = await connect({
      pair: { highWaterMark: HWM },
      server: { writableHighWaterMark: HWM },
      // Counts the bytes the client's transport reads from its duplex.
      clientEnd: (d) => {
        const inner = d.readable.getReader();
        const readable = new ReadableStream<Uint8Array>(
          {
            async pull(controller) {
              const r = await inner.read();
              if (r.done) controller.close();
              else {
                pulled += r.value.length;
                controller.enqueue(r.value);
              }
            },
            cancel: (reason) => inner.cancel(reason),
          },
          { highWaterMark: 0 },
        );
        return { readable, writable: d.writable };
      },
    });
    const pulledAfterHandshake = pulled;
    const reader = client.readable.getReader(); // the client starts, but reads nothing yet
    const writer = server.writable.getWriter();
    let accepted = 0;
    const writes = Array.from({ length: N }, (_, i) => {
      const message = new Uint8Array(SIZE).fill(i & 0xff);
      message[0] = i >> 8;
      message[1] = i & 0xff;
      return writer.write(message).then(() => void accepted++);
    });

    await idle(20);
    const stalledAt = accepted;
    // The server's writes stall: only what fits in the client's message queue (16), the pair (16 KiB)
    // and the server's own high-water mark (16 KiB) was accepted.
    expect(stalledAt).toBeGreaterThan(0);
    expect(stalledAt).toBeLessThan(80);
    expect(server.bufferedAmount).toBeLessThanOrEqual(HWM + 2 * (SIZE + 4));
    // The client's transport stopped reading from its duplex once its queue was full.
    expect(pulled - pulledAfterHandshake).toBeLessThanOrEqual(17 * (SIZE + 4));
    await idle(20);
    expect(accepted).toBe(stalledAt);

    // Reading again: every message arrives, in order, and every write completes.
    const wrong: number[] = [];
    for (let i = 0; i < N; i++) {
      const { value, done } = await reader.read();
      if (done || !(value instanceof Uint8Array) || value.length !== SIZE || value[0] !== i >> 8 || value[1] !== (i & 0xff) || value[SIZE - 1] !== (i & 0xff)) {
        wrong.push(i);
      }
    }
    expect(wrong).toEqual([]);
    await Promise.all(writes);
    expect(accepted).toBe(N);
    server.close({ closeCode: 1000 });
    expect(await client.closed).toMatchObject({ closeCode: 1000, wasClean: true });
  });

  it('a transport error (the peer resets the connection) goes to onerror and closes with 1006', async () => {
    const { client, server } = await connect();
    server.readable.getReader();
    const errors: Error[] = [];
    server.onerror = (error) => errors.push(error);
    client.abort();
    expect(await server.closed).toEqual({ closeCode: 1006, reason: '', wasClean: false });
    expect(errors).toHaveLength(1);
    expect(server.send('anyone?')).toBe(false);
  });
});

describe('the opening handshake over a duplex (RFC 6455 §4)', () => {
  it('a refused handshake rejects on both sides with a HandshakeError and the status', async () => {
    const [a, b] = createDuplexPair();
    const [c, s] = await Promise.allSettled([
      clientHandshake(a, URL_, { origin: 'https://evil.example' }),
      serverHandshake(b, { allowedOrigins: ['https://good.example'] }),
    ]);
    expect(c.status).toBe('rejected');
    expect(s.status).toBe('rejected');
    const clientError = (c as PromiseRejectedResult).reason;
    const serverError = (s as PromiseRejectedResult).reason;
    expect(clientError).toBeInstanceOf(HandshakeError);
    expect(clientError).toMatchObject({ code: 'BAD_STATUS', status: 403 });
    expect(serverError).toBeInstanceOf(HandshakeError);
    expect(serverError).toMatchObject({ code: 'FORBIDDEN_ORIGIN', status: 403 });
  });

  it('a client refuses a 101 whose Sec-WebSocket-Accept is wrong', async () => {
    const [a, b] = createDuplexPair();
    const pending = clientHandshake(a, URL_, { key: RFC_KEY });
    const reader = b.readable.getReader();
    const parser = new HttpHeadParser('request');
    while ((await reader.read().then((r) => parser.push(r.value!))) === null);
    await b.writable.getWriter().write(utf8(RFC_101.replace('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=')));
    expect(await rejection(pending)).toMatchObject({ name: 'HandshakeError', code: 'BAD_ACCEPT' });
  });

  it('server answers another protocol version with 426 and Sec-WebSocket-Version: 13 (RFC 6455 §4.4)', async () => {
    const [a, b] = createDuplexPair();
    const pending = serverHandshake(b);
    const request = buildClientRequest({ url: URL_, key: RFC_KEY }).request.replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 8');
    await a.writable.getWriter().write(utf8(request));
    const answer = await readToEnd(a.readable);
    expect(answer.startsWith('HTTP/1.1 426 Upgrade Required\r\n')).toBe(true);
    expect(answer).toContain('\r\nSec-WebSocket-Version: 13\r\n');
    expect(await rejection(pending)).toMatchObject({ code: 'BAD_VERSION', status: 426 });
  });

  it('server answers a malformed head with 400', async () => {
    const [a, b] = createDuplexPair();
    const pending = serverHandshake(b);
    await a.writable.getWriter().write(utf8('GET /chat HTTP/1.1\nHost: x\n\n'));
    expect((await readToEnd(a.readable)).startsWith('HTTP/1.1 400 Bad Request\r\n')).toBe(true);
    expect(await rejection(pending)).toMatchObject({ code: 'MALFORMED_HEAD', status: 400 });
  });

  it('server answers 500 when a negotiation callback selects a subprotocol that was not offered', async () => {
    const [a, b] = createDuplexPair();
    const pending = serverHandshake(b, { handleProtocols: () => 'other' });
    await a.writable.getWriter().write(utf8(buildClientRequest({ url: URL_, protocols: ['chat'] }).request));
    expect((await readToEnd(a.readable)).startsWith('HTTP/1.1 500 Internal Server Error\r\n')).toBe(true);
    expect(await rejection(pending)).toBeInstanceOf(TypeError);
  });

  it('a peer that ends the stream before its head is complete is a MALFORMED_HEAD rejection', async () => {
    const [a, b] = createDuplexPair();
    const server = serverHandshake(b);
    const writer = a.writable.getWriter();
    await writer.write(utf8('GET /chat HTTP/1.1\r\nHost: x\r\n'));
    await writer.close();
    expect(await rejection(server)).toMatchObject({ code: 'MALFORMED_HEAD' });

    const [c, d] = createDuplexPair();
    const client = clientHandshake(c, URL_);
    await d.writable.getWriter().close();
    expect(await rejection(client)).toMatchObject({ code: 'MALFORMED_HEAD' });
  });

  it('client: frames the server sent in the same chunk as its 101 are delivered first', async () => {
    const [a, b] = createDuplexPair();
    const pending = clientHandshake(a, URL_, { key: RFC_KEY });
    const reader = b.readable.getReader();
    const parser = new HttpHeadParser('request');
    while ((await reader.read().then((r) => parser.push(r.value!))) === null);
    const writer = b.writable.getWriter();
    // One chunk: the 101 head, a text frame "Hello" (RFC 6455 §5.7) and a binary frame.
    await writer.write(concatBytes(utf8(RFC_101), hex('81 05 48 65 6c 6c 6f'), hex('82 02 01 02')));
    await writer.write(hex('81 01 21'));
    const client = await pending;
    expect(shown(await take(client.readable.getReader(), 3))).toEqual(['Hello', { binary: '01 02' }, '!']);
  });

  it('client: the leftover frames reach an onmessage handler set after the handshake resolved', async () => {
    const [a, b] = createDuplexPair();
    const pending = clientHandshake(a, URL_, { key: RFC_KEY });
    const reader = b.readable.getReader();
    const parser = new HttpHeadParser('request');
    while ((await reader.read().then((r) => parser.push(r.value!))) === null);
    await b.writable.getWriter().write(concatBytes(utf8(RFC_101), hex('81 05 48 65 6c 6c 6f')));
    const client = await pending;
    await idle();
    const got: Array<string | Uint8Array> = [];
    client.onmessage = (data) => got.push(data);
    await idle();
    expect(got).toEqual(['Hello']);
  });

  it('server: frames the client sent right after its request head are delivered first', async () => {
    const [a, b] = createDuplexPair();
    const pending = serverHandshake(b);
    const request = utf8(buildClientRequest({ url: URL_ }).request);
    const frame = serializeFrame(makeFrame(Opcode.Text, utf8('early')), 0x11223344);
    await a.writable.getWriter().write(concatBytes(request, frame));
    const server = await pending;
    expect(await take(server.readable.getReader(), 1)).toEqual(['early']);
  });

  it('openConnection feeds the bytes already read (head) before the duplex\'s', async () => {
    const [a, b] = createDuplexPair();
    const server = openConnection(b, { role: 'server' }, serializeFrame(makeFrame(Opcode.Text, utf8('first')), 1));
    await a.writable.getWriter().write(serializeFrame(makeFrame(Opcode.Text, utf8('second')), 2));
    expect(await take(server.readable.getReader(), 2)).toEqual(['first', 'second']);
  });

  it('refuses a duplex whose streams are locked', () => {
    const [a] = createDuplexPair();
    a.readable.getReader();
    expect(() => new DuplexTransport(a)).toThrow(TypeError);
    expect(() => openConnection(a, { role: 'client' })).toThrow(TypeError);
  });
});

describe('timeouts on injected timers', () => {
  it('a client whose Close gets no answer drops the transport after closeTimeout: 1006', async () => {
    const timers = new FakeTimers();
    // A server that completes the handshake and then never reads again: the client's
    // Close is never answered.
    const [a, b] = createDuplexPair();
    const pending = clientHandshake(a, URL_, { timers, closeTimeout: 3000 });
    const reader = b.readable.getReader();
    const parser = new HttpHeadParser('request');
    let request = null;
    while (request === null) {
      const { value } = await reader.read();
      request = parser.push(value!);
    }
    const key = request.head.headers.get('sec-websocket-key')!;
    const writer = b.writable.getWriter();
    await writer.write(utf8(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${await acceptKey(key)}\r\n\r\n`));
    const client = await pending;
    expect(timers.delays).toEqual([]); // the handshake timeout was cleared
    client.close({ closeCode: 1000, reason: 'bye' });
    expect(timers.delays).toEqual([3000]);
    let settled = false;
    void client.closed.then(() => (settled = true));
    await idle();
    expect(settled).toBe(false);
    timers.fire(3000);
    expect(await client.closed).toEqual({ closeCode: 1006, reason: '', wasClean: false });
    expect(timers.delays).toEqual([]);
    await writer.abort();
  });

  it('a closing handshake that completes clears the close timer', async () => {
    const timers = new FakeTimers();
    const { client, server } = await connect({ client: { timers, closeTimeout: 3000 } });
    server.readable.getReader();
    client.close({ closeCode: 1000 });
    expect(await client.closed).toEqual({ closeCode: 1000, reason: '', wasClean: true });
    expect(timers.delays).toEqual([]);
  });

  it('client: a server that never answers fails the handshake after handshakeTimeout with a TimeoutError', async () => {
    const timers = new FakeTimers();
    const [a, b] = createDuplexPair();
    const pending = clientHandshake(a, URL_, { timers, handshakeTimeout: 500 });
    await idle();
    expect(timers.delays).toEqual([500]);
    timers.fire(500);
    const error = await rejection(pending);
    expect((error as Error).name).toBe('TimeoutError');
    // The duplex was dropped: the server's end errors.
    expect(await rejection(readToEnd(b.readable))).toBeDefined();
  });

  it('server: a client that never sends its head fails the handshake after handshakeTimeout with a TimeoutError', async () => {
    const timers = new FakeTimers();
    const [, b] = createDuplexPair();
    const pending = serverHandshake(b, { timers });
    expect(timers.delays).toEqual([10_000]);
    timers.fire(10_000);
    expect(((await rejection(pending)) as Error).name).toBe('TimeoutError');
  });
});

describe('client <-> server over a duplex pair: fragmented sends', () => {
  it('sendFragment sends one message in pieces, with a ping between them, and the peer assembles it', async () => {
    const { client, server } = await connect();
    const reader = server.readable.getReader();
    const pongs: number[] = [];
    client.onpong = (p) => pongs.push(p.length);
    expect(client.sendFragment('héllo, ', false)).toBe(true);
    client.ping(new Uint8Array(3));
    expect(client.sendFragment('wörld', true)).toBe(true);
    expect((await reader.read()).value).toBe('héllo, wörld');
    client.sendFragment(new Uint8Array([1, 2]), false);
    client.sendFragment(new Uint8Array([3]), true);
    expect(Array.from((await reader.read()).value as Uint8Array)).toEqual([1, 2, 3]);
    expect(() => {
      client.sendFragment('a', false);
      client.sendFragment(new Uint8Array([1]), true);
    }).toThrow(TypeError);
    client.sendFragment('b', true);
    expect((await reader.read()).value).toBe('ab');
    expect(pongs).toEqual([3]);
    client.close();
    await client.closed;
  });
});
