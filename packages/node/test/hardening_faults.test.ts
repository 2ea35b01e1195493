// Faults on Node: a socket reset (RST) in the middle of a frame, of the opening handshake and
// of the closing handshake; TLS errors; and a peer that never reads against the write
// backpressure and the maxBufferedAmount policies. Each gives clean events (closed with
// 1006, onerror, onReject, a rejected connect), no crash, and no connection left behind.
import { connect as tcpConnect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BufferedAmountError, FrameParser, type Frame, type WebSocketConnection } from '@wsflow/codec';
import { connect, serve, type RejectionInfo, type ServeOptions, type WebSocketServer } from '../src/index.ts';
import { hasOpenssl, makeCert, type TestCert } from './support/certs.ts';
import { delay, guardEachTest, until, within } from './support/guarded.ts';
import { clientFrame, closePayload, Opcode, RawClient, upgradeRequest } from './support/raw.ts';

const cleanups = guardEachTest();

/** A server that records its connections and their errors. */
async function start(options: ServeOptions = {}): Promise<{ server: WebSocketServer; accepted: WebSocketConnection[]; errors: Error[] }> {
  const accepted: WebSocketConnection[] = [];
  const errors: Error[] = [];
  const server = await serve({
    handler: (conn) => {
      accepted.push(conn);
      conn.onerror = (error) => errors.push(error);
      conn.onmessage = (data) => conn.send(data);
    },
    ...options,
  });
  cleanups.push(() => server.close());
  return { server, accepted, errors };
}

async function rawUpgraded(port: number): Promise<RawClient> {
  const client = await RawClient.open(port);
  cleanups.push(() => client.socket.destroy());
  client.socket.write(upgradeRequest('/', `127.0.0.1:${port}`));
  expect(await client.head()).toMatch(/^HTTP\/1\.1 101 /);
  return client;
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

describe('a socket reset', () => {
  test('in the middle of a frame: the server connection closes with 1006 and leaves the set', async () => {
    const { server, accepted } = await start();
    const client = await rawUpgraded(server.port);
    await until(() => accepted.length === 1, 5000, 'accepted');
    const frame = clientFrame(Opcode.Binary, new Uint8Array(1000).fill(7));
    client.socket.write(frame.subarray(0, 300));
    await delay(50);
    client.socket.resetAndDestroy();
    expect(await within(accepted[0].closed, 5000, 'closed')).toEqual({ closeCode: 1006, reason: '', wasClean: false });
    await until(() => server.connections.size === 0, 5000, 'connection removed');
    await stillServes(server.url);
  });

  test('in the middle of the request head: nothing is left pending', async () => {
    const { server } = await start();
    const socket = tcpConnect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(upgradeRequest('/', `127.0.0.1:${server.port}`).slice(0, 40));
    await until(() => server.pendingHandshakes === 1, 5000, 'counted');
    socket.resetAndDestroy();
    await until(() => server.pendingHandshakes === 0, 5000, 'released');
    expect(server.connections.size).toBe(0);
    await stillServes(server.url);
  });

  test('while the upgrade hook runs: reported SOCKET_CLOSED or TIMEOUT, no connection made', async () => {
    const rejected: RejectionInfo[] = [];
    let hookCalled!: () => void;
    const called = new Promise<void>((resolve) => (hookCalled = resolve));
    const { server, accepted } = await start({
      handshakeTimeout: 1500,
      onReject: (info) => rejected.push(info),
      authorize: async () => {
        hookCalled();
        await delay(300);
      },
    });
    const socket = tcpConnect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(upgradeRequest('/', `127.0.0.1:${server.port}`));
    await called;
    socket.resetAndDestroy();
    await until(() => rejected.length === 1, 5000, 'reported');
    expect(rejected[0].status).toBe(0);
    expect(['SOCKET_CLOSED', 'TIMEOUT']).toContain(rejected[0].code);
    expect(accepted).toHaveLength(0);
    await until(() => server.pendingHandshakes === 0, 5000, 'released');
  });

  test('during the closing handshake the server started: closed says 1006', async () => {
    const { server, accepted } = await start({ closeTimeout: 10_000 });
    const client = await rawUpgraded(server.port);
    await until(() => accepted.length === 1, 5000, 'accepted');
    accepted[0].close({ closeCode: 1000, reason: 'bye' });
    await client.until((b) => b.indexOf(0x88) >= 0);
    client.socket.resetAndDestroy();
    // Not the close timeout: the reset ends it.
    expect(await within(accepted[0].closed, 5000, 'closed')).toEqual({ closeCode: 1006, reason: '', wasClean: false });
    await until(() => server.connections.size === 0, 5000, 'connection removed');
  });

  test('after the peer started the closing handshake and got our answer: closed says its code, cleanly', async () => {
    const { server, accepted } = await start({ closeTimeout: 10_000 });
    const client = await rawUpgraded(server.port);
    await until(() => accepted.length === 1, 5000, 'accepted');
    client.socket.write(clientFrame(Opcode.Close, closePayload(4001, 'leaving')));
    await client.until((b) => b.indexOf(0x88) >= 0);
    client.socket.resetAndDestroy();
    expect(await within(accepted[0].closed, 5000, 'closed')).toEqual({ closeCode: 4001, reason: 'leaving', wasClean: true });
    await until(() => server.connections.size === 0, 5000, 'connection removed');
  });

  test('50 peers resetting at random points of a message stream leave no connection behind', async () => {
    const { server, accepted } = await start();
    const clients = await Promise.all(Array.from({ length: 50 }, () => rawUpgraded(server.port)));
    await until(() => accepted.length === 50, 5000, 'accepted');
    const frames = Buffer.concat(Array.from({ length: 20 }, (_, i) => clientFrame(Opcode.Text, `message ${i} `.repeat(50))));
    clients.forEach((client, i) => {
      client.socket.write(frames.subarray(0, Math.floor((frames.length * (i + 1)) / 51)));
    });
    await delay(50);
    for (const client of clients) client.socket.resetAndDestroy();
    const infos = await within(Promise.all(accepted.map((c) => c.closed)), 5000, 'all closed');
    expect(infos.every((info) => info.closeCode === 1006 && !info.wasClean)).toBe(true);
    await until(() => server.connections.size === 0, 5000, 'connections removed');
  });
});

describe.skipIf(!hasOpenssl)('TLS errors', () => {
  let cert: TestCert;
  beforeAll(() => {
    cert = makeCert();
  });
  afterAll(() => cert?.dispose());

  test('plain TCP to a wss:// server: the client is rejected with an error, the server keeps serving', async () => {
    const { server } = await start({ tls: { key: cert.key, cert: cert.cert } });
    const error = await connect(`ws://127.0.0.1:${server.port}/`, { proxy: false, handshakeTimeout: 5000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message.length).toBeGreaterThan(0);
    await stillServes(server.url, { ca: cert.cert });
    await until(() => server.pendingHandshakes === 0, 5000, 'released');
  });

  test('a client that does not trust the self-signed certificate is rejected with the TLS error', async () => {
    const { server } = await start({ tls: { key: cert.key, cert: cert.cert } });
    const error = await connect(server.url, { proxy: false, handshakeTimeout: 5000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as { code?: string }).code).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);
    await stillServes(server.url, { ca: cert.cert });
    await until(() => server.pendingHandshakes === 0, 5000, 'released');
  });

  test('a TLS handshake aborted midway, or never started, is dropped; the server keeps serving', async () => {
    const { server } = await start({ tls: { key: cert.key, cert: cert.cert }, handshakeTimeout: 1000 });
    // A ClientHello record header announcing 512 octets, then a few of them, then a reset.
    const aborted = tcpConnect(server.port, '127.0.0.1');
    aborted.on('error', () => {});
    await new Promise((resolve) => aborted.once('connect', resolve));
    aborted.write(Buffer.from('160301020001000200fe0303', 'hex'));
    await delay(50);
    aborted.resetAndDestroy();
    // One that connects and says nothing: the TLS handshake runs into handshakeTimeout.
    const silent = tcpConnect(server.port, '127.0.0.1');
    silent.on('error', () => {});
    silent.resume();
    cleanups.push(() => silent.destroy());
    const silentClosed = new Promise((resolve) => silent.once('close', resolve));
    const started = Date.now();
    await new Promise((resolve) => silent.once('connect', resolve));
    await until(() => server.pendingHandshakes === 1, 5000, 'the silent one counted');
    await stillServes(server.url, { ca: cert.cert });
    await within(silentClosed, 10_000, 'silent socket dropped');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    await until(() => server.pendingHandshakes === 0, 5000, 'released');
  });

  test('the pending-handshake cap counts TLS handshakes, and a wss:// client still gets in', async () => {
    const { server } = await start({ tls: { key: cert.key, cert: cert.cert }, maxPendingHandshakes: 5, handshakeTimeout: 20_000 });
    const silent: Socket[] = [];
    cleanups.push(() => {
      for (const s of silent) s.destroy();
    });
    const closed: boolean[] = [];
    for (let i = 0; i < 10; i++) {
      const socket = tcpConnect(server.port, '127.0.0.1');
      socket.on('error', () => {});
      socket.resume();
      socket.once('close', () => (closed[i] = true));
      silent.push(socket);
      await new Promise((resolve) => socket.once('connect', resolve));
      await until(() => server.pendingHandshakes === Math.min(i + 1, 5), 5000, `socket ${i} counted`);
    }
    await until(() => closed.filter(Boolean).length === 5, 5000, '5 evicted');
    await stillServes(server.url, { ca: cert.cert });
    expect(server.pendingHandshakes).toBe(4);
  });
});

/** A raw client that completed the handshake and does not read until `read()` is called. */
interface SlowReader {
  socket: Socket;
  frames: Frame[];
  read(): void;
  readonly ended: Promise<void>;
}

async function slowReader(port: number): Promise<SlowReader> {
  const socket = tcpConnect(port, '127.0.0.1');
  socket.on('error', () => {});
  cleanups.push(() => socket.destroy());
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(upgradeRequest('/', `127.0.0.1:${port}`));
  let head = Buffer.alloc(0);
  const rest = await new Promise<Buffer>((resolve) => {
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.pause();
      resolve(head.subarray(end + 4));
    };
    socket.on('data', onData);
  });
  expect(head.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
  const frames: Frame[] = [];
  const parser = new FrameParser(
    { role: 'client', maxPayload: 1 << 30 },
    {
      frameHeader() {},
      framePartial() {},
      frame: (fin, rsv, opcode, payload) => void frames.push({ fin, rsv1: false, rsv2: false, rsv3: false, opcode, payload: payload.slice() }),
    },
  );
  if (rest.length > 0) parser.push(rest);
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    socket,
    frames,
    read() {
      socket.on('data', (chunk: Buffer) => parser.push(chunk));
      socket.resume();
    },
    ended,
  };
}

const chunk = (i: number, size: number): Uint8Array => {
  const bytes = new Uint8Array(size);
  new DataView(bytes.buffer).setUint32(0, i);
  return bytes;
};

/** Sends numbered chunks until `send` refuses one (or the bound); returns how many were accepted. */
function flood(conn: WebSocketConnection, size: number, bound: number): number {
  let accepted = 0;
  while (accepted < bound && conn.send(chunk(accepted, size))) accepted++;
  return accepted;
}

describe('a peer that never reads', () => {
  test('without a limit: bufferedAmount builds up and the writable stream stops taking writes until the peer reads', async () => {
    const { server, accepted } = await start({ writableHighWaterMark: 256 * 1024 });
    const peer = await slowReader(server.port);
    await until(() => accepted.length === 1, 5000, 'accepted');
    const conn = accepted[0];
    const writer = conn.writable.getWriter();
    let writes = 0;
    let blocked: Promise<void> | null = null;
    for (let i = 0; i < 2000 && blocked === null; i++) {
      const write = writer.write(chunk(i, 64 * 1024));
      writes++;
      // A write that does not resolve at once waits for a drain.
      const settled = await Promise.race([write.then(() => true), delay(100).then(() => false)]);
      if (!settled) blocked = write;
    }
    expect(blocked).not.toBeNull();
    expect(conn.bufferedAmount).toBeGreaterThan(256 * 1024);
    const buildUp = conn.bufferedAmount;
    peer.read();
    await within(blocked!, 10_000, 'the blocked write resolves once the peer reads');
    await until(() => peer.frames.length === writes, 10_000, 'every message read');
    expect(peer.frames.map((f) => new DataView(f.payload.buffer, f.payload.byteOffset).getUint32(0))).toEqual(Array.from({ length: writes }, (_, i) => i));
    writer.releaseLock();
    console.log(`[node backpressure] ${writes} writes of 64 KiB before one blocked; bufferedAmount then ${buildUp} bytes`);
  });

  test("maxBufferedAmount with 'close': onerror with 1008, then the close timeout drops the peer (1006)", async () => {
    const { server, accepted, errors } = await start({ maxBufferedAmount: 256 * 1024, closeTimeout: 500 });
    await slowReader(server.port);
    await until(() => accepted.length === 1, 5000, 'accepted');
    const conn = accepted[0];
    const sent = flood(conn, 16 * 1024, 4000);
    expect(sent).toBeLessThan(4000);
    expect(conn.state).toBe('closing');
    expect(errors).toHaveLength(1);
    const error = errors[0] as BufferedAmountError;
    expect(error).toBeInstanceOf(BufferedAmountError);
    expect(error.closeCode).toBe(1008);
    expect(error.message).toMatch(/closing with 1008/);
    expect(await within(conn.closed, 5000, 'closed')).toEqual({ closeCode: 1006, reason: '', wasClean: false });
    await until(() => server.connections.size === 0, 5000, 'connection removed');
    console.log(`[node maxBufferedAmount close] ${sent} sends of 16 KiB accepted; bufferedAmount ${error.bufferedAmount} > ${error.maxBufferedAmount}`);
  });

  test("maxBufferedAmount with 'close': a peer that reads late gets every accepted message, then the Close 1008", async () => {
    const { server, accepted, errors } = await start({ maxBufferedAmount: 256 * 1024, closeTimeout: 10_000 });
    const peer = await slowReader(server.port);
    await until(() => accepted.length === 1, 5000, 'accepted');
    const conn = accepted[0];
    const sent = flood(conn, 16 * 1024, 4000);
    expect(errors).toHaveLength(1);
    peer.read();
    await until(() => peer.frames.some((f) => f.opcode === Opcode.Close), 10_000, 'the Close read');
    const data = peer.frames.filter((f) => f.opcode === Opcode.Binary);
    expect(data.map((f) => new DataView(f.payload.buffer, f.payload.byteOffset).getUint32(0))).toEqual(Array.from({ length: sent }, (_, i) => i));
    const close = peer.frames.at(-1)!;
    expect(close.opcode).toBe(Opcode.Close);
    expect((close.payload[0] << 8) | close.payload[1]).toBe(1008);
    peer.socket.write(clientFrame(Opcode.Close, closePayload(1008)));
    expect(await within(conn.closed, 5000, 'closed')).toEqual({ closeCode: 1008, reason: '', wasClean: true });
  });

  test("maxBufferedAmount with 'drop': onerror with 1006 and the connection is gone at once", async () => {
    const { server, accepted, errors } = await start({ maxBufferedAmount: 256 * 1024, bufferedAmountPolicy: 'drop' });
    const peer = await slowReader(server.port);
    await until(() => accepted.length === 1, 5000, 'accepted');
    const conn = accepted[0];
    const sent = flood(conn, 16 * 1024, 4000);
    expect(sent).toBeLessThan(4000);
    expect(conn.state).toBe('closed');
    expect((errors[0] as BufferedAmountError).closeCode).toBe(1006);
    expect(await conn.closed).toEqual({ closeCode: 1006, reason: '', wasClean: false });
    await until(() => server.connections.size === 0, 5000, 'connection removed');
    // The peer, reading at last, finds the connection cut short: no Close frame.
    peer.read();
    await within(peer.ended, 10_000, 'the peer sees the end');
    expect(peer.frames.some((f) => f.opcode === Opcode.Close)).toBe(false);
    await stillServes(server.url);
  });
});
