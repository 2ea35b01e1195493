// Faults on every runtime (written once, run under Node, Deno and Bun through `#shim`): a
// socket reset in the middle of a frame, of the opening handshake and of the closing
// handshake; TLS errors; and a peer that never reads against the maxBufferedAmount
// policies. Each gives clean events (closed with 1006, onerror, onReject, a rejected
// connect), no crash, and no connection left behind.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BufferedAmountError, type Frame } from '@wsflow/codec';
import { connect, runtime, serve, type RejectionInfo, type WebSocketConnection } from './support/shim.ts';
import { hasOpenssl, makeCertificates, type TestCertificates } from './support/certs.ts';
import { Opcode, RawPeer, clientFrame, closePayload, until, upgradeHead } from './support/raw.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Options = NonNullable<Parameters<typeof serve>[0]>;
type Server = Awaited<ReturnType<typeof serve>>;

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with `promise`, or rejects naming `what` after `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A server that records its connections and their errors. */
async function start(options: Options = {}): Promise<{ server: Server; accepted: WebSocketConnection[]; errors: Error[] }> {
  const accepted: WebSocketConnection[] = [];
  const errors: Error[] = [];
  const server = await serve({
    handler: (conn) => {
      accepted.push(conn);
      conn.onerror = (error) => void errors.push(error);
      conn.onmessage = (data) => conn.send(data);
    },
    ...options,
  });
  cleanups.push(() => server.close());
  return { server, accepted, errors };
}

async function upgraded(port: number): Promise<RawPeer> {
  const peer = await RawPeer.upgraded(port);
  cleanups.push(() => peer.close());
  return peer;
}

/** Our client still connects and echoes. */
async function stillServes(url: string, options: Parameters<typeof connect>[1] = {}): Promise<void> {
  const conn = await connect(url, { proxy: false, ...options });
  const echoed = new Promise((resolve) => (conn.onmessage = resolve));
  conn.send('still serving');
  expect(await within(echoed, 5000, 'echo')).toBe('still serving');
  conn.close();
  await conn.closed;
}

describe(`faults on ${runtime}: a socket reset`, () => {
  it('in the middle of a frame: the server connection closes with 1006 and leaves the set', async () => {
    const { server, accepted } = await start();
    const peer = await upgraded(server.port);
    await until(() => accepted.length === 1, 'accepted');
    peer.write(clientFrame(Opcode.Binary, new Uint8Array(1000).fill(7)).subarray(0, 300));
    await delay(50);
    peer.reset();
    expect(await within(accepted[0].closed, 5000, 'closed')).toEqual({ closeCode: 1006, reason: '', wasClean: false });
    await until(() => server.connections.size === 0, 'connection removed');
    await stillServes(server.url);
  });

  it('in the middle of the request head: reported SOCKET_CLOSED, nothing left pending', async () => {
    const rejected: RejectionInfo[] = [];
    const { server } = await start({ onReject: (info) => void rejected.push(info) });
    const peer = await RawPeer.open(server.port);
    peer.write(upgradeHead('/', `127.0.0.1:${server.port}`).slice(0, 40));
    await until(() => server.pendingHandshakes === 1, 'counted');
    peer.reset();
    await until(() => server.pendingHandshakes === 0, 'released');
    await until(() => rejected.length === 1, 'reported');
    expect(rejected[0]).toMatchObject({ status: 0, code: 'SOCKET_CLOSED' });
    expect(server.connections.size).toBe(0);
    await stillServes(server.url);
  });

  it('while the upgrade hook runs: reported SOCKET_CLOSED, no connection made', async () => {
    const rejected: RejectionInfo[] = [];
    let hookCalled!: () => void;
    const called = new Promise<void>((resolve) => (hookCalled = resolve));
    const { server, accepted } = await start({
      handshakeTimeout: 10_000,
      onReject: (info) => void rejected.push(info),
      authorize: () => {
        hookCalled();
        return new Promise(() => {});
      },
    });
    const peer = await RawPeer.open(server.port);
    peer.write(upgradeHead('/', `127.0.0.1:${server.port}`));
    await called;
    peer.reset();
    await until(() => rejected.length === 1, 'reported');
    expect(rejected[0]).toMatchObject({ status: 0, code: 'SOCKET_CLOSED' });
    expect(accepted).toHaveLength(0);
    expect(server.pendingHandshakes).toBe(0);
  });

  it('during the closing handshake the server started: closed says 1006', async () => {
    const { server, accepted } = await start({ closeTimeout: 10_000 });
    const peer = await upgraded(server.port);
    await until(() => accepted.length === 1, 'accepted');
    accepted[0].close({ closeCode: 1000, reason: 'bye' });
    expect((await peer.nextFrame()).opcode).toBe(Opcode.Close);
    peer.reset();
    // Not the close timeout: the reset ends it.
    expect(await within(accepted[0].closed, 5000, 'closed')).toEqual({ closeCode: 1006, reason: '', wasClean: false });
    await until(() => server.connections.size === 0, 'connection removed');
  });

  it('a peer that goes away (FIN) without answering our Close: closed says 1006', async () => {
    const { server, accepted } = await start({ closeTimeout: 10_000 });
    const peer = await upgraded(server.port);
    await until(() => accepted.length === 1, 'accepted');
    accepted[0].close({ closeCode: 1000, reason: 'bye' });
    expect((await peer.nextFrame()).opcode).toBe(Opcode.Close);
    peer.socket.end();
    expect(await within(accepted[0].closed, 5000, 'closed')).toEqual({ closeCode: 1006, reason: '', wasClean: false });
    await until(() => server.connections.size === 0, 'connection removed');
  });

  it('after the peer started the closing handshake and got our answer: closed says its code, cleanly', async () => {
    const { server, accepted } = await start({ closeTimeout: 10_000 });
    const peer = await upgraded(server.port);
    await until(() => accepted.length === 1, 'accepted');
    peer.write(clientFrame(Opcode.Close, closePayload(4001, 'leaving')));
    expect((await peer.nextFrame()).opcode).toBe(Opcode.Close);
    peer.close();
    expect(await within(accepted[0].closed, 5000, 'closed')).toEqual({ closeCode: 4001, reason: 'leaving', wasClean: true });
    await until(() => server.connections.size === 0, 'connection removed');
  });

  it('50 peers resetting at different points of a message stream leave no connection behind', async () => {
    const { server, accepted } = await start();
    const peers = await Promise.all(Array.from({ length: 50 }, () => upgraded(server.port)));
    await until(() => accepted.length === 50, 'accepted');
    const parts = Array.from({ length: 20 }, (_, i) => clientFrame(Opcode.Text, `message ${i} `.repeat(50)));
    const stream = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((at, p) => (stream.set(p, at), at + p.length), 0);
    peers.forEach((peer, i) => peer.write(stream.subarray(0, Math.floor((stream.length * (i + 1)) / 51))));
    await delay(50);
    for (const peer of peers) peer.reset();
    const infos = await within(Promise.all(accepted.map((c) => c.closed)), 5000, 'all closed');
    expect(infos.every((info) => info.closeCode === 1006 && !info.wasClean)).toBe(true);
    await until(() => server.connections.size === 0, 'connections removed');
  });
});

describe.skipIf(!hasOpenssl)(`faults on ${runtime}: TLS errors`, () => {
  let certs: TestCertificates;
  beforeAll(() => {
    certs = makeCertificates();
  });
  afterAll(() => {});

  it('plain TCP to a wss:// server: the client is rejected with an error, the server keeps serving', async () => {
    const { server } = await start({ tls: { key: certs.key, cert: certs.cert } });
    const error = await connect(`ws://127.0.0.1:${server.port}/`, { proxy: false, handshakeTimeout: 5000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    await stillServes(`wss://localhost:${server.port}/`, { ca: [certs.ca] });
    await until(() => server.pendingHandshakes === 0, 'released');
  });

  it('a client that does not trust the certificate is rejected with the TLS error', async () => {
    const { server } = await start({ tls: { key: certs.key, cert: certs.cert } });
    const error = await connect(`wss://localhost:${server.port}/`, { proxy: false, handshakeTimeout: 5000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(`${(error as { code?: string }).code} ${(error as Error).message}`).toMatch(/UNABLE_TO_VERIFY|unknown ?issuer|UnknownIssuer|certificate|self[- ]signed/i);
    await stillServes(`wss://localhost:${server.port}/`, { ca: [certs.ca] });
    await until(() => server.pendingHandshakes === 0, 'released');
  });

  it('a TLS handshake aborted midway, or never started, is dropped on time; the server keeps serving', { timeout: 20_000 }, async () => {
    const rejected: RejectionInfo[] = [];
    const { server } = await start({ tls: { key: certs.key, cert: certs.cert }, handshakeTimeout: 1000, onReject: (info) => void rejected.push(info) });
    // A ClientHello record header announcing 512 octets, then a few of them, then a reset.
    const aborted = await RawPeer.open(server.port);
    aborted.write(new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]));
    await delay(50);
    aborted.reset();
    await until(() => server.pendingHandshakes === 0, 'the aborted one released');
    // One that connects and says nothing: the TLS handshake runs into handshakeTimeout.
    const silent = await RawPeer.open(server.port);
    cleanups.push(() => silent.close());
    const started = Date.now();
    await until(() => server.pendingHandshakes === 1, 'the silent one counted');
    await stillServes(`wss://localhost:${server.port}/`, { ca: [certs.ca] });
    // Dropped by the server at the timeout (seen from the server: Deno's TLS conns do not
    // always send a FIN when closed before their handshake).
    await until(() => rejected.some((r) => r.code === 'TIMEOUT'), 'the silent one dropped', 10_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(rejected.find((r) => r.code === 'TIMEOUT')).toMatchObject({ status: 0 });
    await until(() => server.pendingHandshakes === 0, 'released');
  });

  it('the pending-handshake cap counts TLS handshakes, and a wss:// client still gets in', async () => {
    const rejected: RejectionInfo[] = [];
    const { server } = await start({ tls: { key: certs.key, cert: certs.cert }, maxPendingHandshakes: 5, handshakeTimeout: 20_000, onReject: (info) => void rejected.push(info) });
    const silent: RawPeer[] = [];
    cleanups.push(() => {
      for (const peer of silent) peer.close();
    });
    for (let i = 0; i < 10; i++) {
      silent.push(await RawPeer.open(server.port));
      await until(() => server.pendingHandshakes === Math.min(i + 1, 5), `socket ${i} counted`);
    }
    // Seen from the server (Deno's TLS conns do not always send a FIN when closed before their handshake).
    await until(() => rejected.filter((r) => r.code === 'EVICTED').length === 5, '5 evicted');
    await stillServes(`wss://localhost:${server.port}/`, { ca: [certs.ca] });
    expect(server.pendingHandshakes).toBe(4);
  });
});

const numbered = (i: number, size: number): Uint8Array => {
  const bytes = new Uint8Array(size);
  new DataView(bytes.buffer).setUint32(0, i);
  return bytes;
};

function flood(conn: WebSocketConnection, size: number, bound: number): number {
  let accepted = 0;
  while (accepted < bound && conn.send(numbered(accepted, size))) accepted++;
  return accepted;
}

/** A peer past the handshake that does not read until told. */
async function slowPeer(port: number): Promise<RawPeer> {
  const peer = await upgraded(port);
  peer.socket.pause();
  return peer;
}

async function framesUntilClose(peer: RawPeer, bound: number): Promise<Frame[]> {
  const frames: Frame[] = [];
  for (let i = 0; i < bound; i++) {
    const next = await peer.nextFrame(5000).catch(() => null);
    if (next === null) break;
    frames.push(next);
    if (next.opcode === Opcode.Close) break;
  }
  return frames;
}

describe(`faults on ${runtime}: a peer that never reads`, () => {
  it('without a limit: bufferedAmount builds up and the writable stream stops taking writes until the peer reads', { timeout: 30_000 }, async () => {
    const { server, accepted } = await start({ writableHighWaterMark: 256 * 1024, maxBufferedAmount: Infinity });
    const peer = await slowPeer(server.port);
    await until(() => accepted.length === 1, 'accepted');
    const conn = accepted[0];
    const writer = conn.writable.getWriter();
    let writes = 0;
    let blocked: Promise<void> | null = null;
    for (let i = 0; i < 2000 && blocked === null; i++) {
      const write = writer.write(numbered(i, 64 * 1024));
      writes++;
      // A write that does not resolve at once waits for a drain.
      const settled = await Promise.race([write.then(() => true), delay(100).then(() => false)]);
      if (!settled) blocked = write;
    }
    expect(blocked).not.toBeNull();
    expect(conn.bufferedAmount).toBeGreaterThan(256 * 1024);
    peer.socket.resume();
    await within(blocked!, 10_000, 'the blocked write resolves once the peer reads');
    const frames: Frame[] = [];
    while (frames.length < writes) frames.push(await peer.nextFrame(10_000));
    expect(frames.map((f) => new DataView(f.payload.buffer, f.payload.byteOffset).getUint32(0))).toEqual(Array.from({ length: writes }, (_, i) => i));
    writer.releaseLock();
  });

  it("maxBufferedAmount with 'close': onerror with 1008, then the close timeout drops the peer (1006)", async () => {
    const { server, accepted, errors } = await start({ maxBufferedAmount: 256 * 1024, closeTimeout: 500 });
    await slowPeer(server.port);
    await until(() => accepted.length === 1, 'accepted');
    const conn = accepted[0];
    const sent = flood(conn, 16 * 1024, 4000);
    expect(sent).toBeLessThan(4000);
    expect(conn.state).toBe('closing');
    const error = errors[0] as BufferedAmountError;
    expect(error).toBeInstanceOf(BufferedAmountError);
    expect(error.closeCode).toBe(1008);
    expect(await within(conn.closed, 5000, 'closed')).toEqual({ closeCode: 1006, reason: '', wasClean: false });
    await until(() => server.connections.size === 0, 'connection removed');
  });

  it("maxBufferedAmount with 'close': a peer that reads late gets every accepted message, then the Close 1008", { timeout: 20_000 }, async () => {
    const { server, accepted, errors } = await start({ maxBufferedAmount: 256 * 1024, closeTimeout: 10_000 });
    const peer = await slowPeer(server.port);
    await until(() => accepted.length === 1, 'accepted');
    const conn = accepted[0];
    const sent = flood(conn, 16 * 1024, 4000);
    expect(errors).toHaveLength(1);
    peer.socket.resume();
    const frames = await within(framesUntilClose(peer, 10_000), 10_000, 'read everything');
    const data = frames.filter((f) => f.opcode === Opcode.Binary);
    expect(data.map((f) => new DataView(f.payload.buffer, f.payload.byteOffset).getUint32(0))).toEqual(Array.from({ length: sent }, (_, i) => i));
    const close = frames.at(-1)!;
    expect(close.opcode).toBe(Opcode.Close);
    expect((close.payload[0] << 8) | close.payload[1]).toBe(1008);
    peer.write(clientFrame(Opcode.Close, closePayload(1008)));
    // The server ends TCP first (RFC 6455 §7.1.1); the peer closes once it sees that.
    await until(() => peer.ended || peer.isClosed, 'the server ends TCP');
    peer.socket.end();
    expect(await within(conn.closed, 5000, 'closed')).toEqual({ closeCode: 1008, reason: '', wasClean: true });
  });

  it("maxBufferedAmount with 'drop': onerror with 1006 and the connection is gone at once", async () => {
    const { server, accepted, errors } = await start({ maxBufferedAmount: 256 * 1024, bufferedAmountPolicy: 'drop' });
    const peer = await slowPeer(server.port);
    await until(() => accepted.length === 1, 'accepted');
    const conn = accepted[0];
    const sent = flood(conn, 16 * 1024, 4000);
    expect(sent).toBeLessThan(4000);
    expect(conn.state).toBe('closed');
    expect((errors[0] as BufferedAmountError).closeCode).toBe(1006);
    expect(await conn.closed).toEqual({ closeCode: 1006, reason: '', wasClean: false });
    await until(() => server.connections.size === 0, 'connection removed');
    peer.socket.resume();
    await within(peer.closed, 10_000, 'the peer sees the end');
    const frames = await framesUntilClose(peer, 10_000);
    expect(frames.some((f) => f.opcode === Opcode.Close)).toBe(false);
    await stillServes(server.url);
  });
});
