/**
 * A WebSocket client on a raw `node:net` socket, for the hardening tools: it completes the
 * opening handshake itself ({@link openRaw}) and then leaves the socket to the caller, who
 * may stop reading (a slow consumer) or write any bytes. {@link echoCheck} is the control
 * client: one masked message must come back intact within a deadline.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { acceptOf, closeCodeOf, closePayload, keyOf, maskedFrame, Opcode, parseResponseHead, ServerFrameReader, upgradeRequest, type ResponseHead } from './wire.ts';

/** A socket whose opening handshake is done. */
export interface RawConnection {
  socket: Socket;
  head: ResponseHead;
  /** Bytes that came after the 101 head in the same reads (the start of the first frames). */
  leftover: Uint8Array;
}

/** Options of {@link openRaw}. */
export interface OpenOptions {
  path?: string;
  /** Milliseconds for TCP connect and the 101. Default 10 000. */
  timeoutMs?: number;
  /** A local address to connect from (127.0.0.x spreads ephemeral ports). */
  localAddress?: string;
}

/**
 * Connects to 127.0.0.1:`port`, sends an upgrade request and checks the 101 and its
 * `Sec-WebSocket-Accept`. The socket is paused when this resolves.
 * @throws Error for anything else than a valid 101 within the deadline
 */
export function openRaw(port: number, options: OpenOptions = {}): Promise<RawConnection> {
  const { path = '/', timeoutMs = 10_000, localAddress } = options;
  const key = keyOf(randomBytes(16));
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ...(localAddress === undefined ? {} : { localAddress }) });
    socket.setNoDelay(true);
    let received = Buffer.alloc(0);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new Error(`no 101 within ${timeoutMs} ms`)), timeoutMs);
    socket.once('connect', () => socket.write(upgradeRequest(`127.0.0.1:${port}`, path, key)));
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('closed before the 101')));
    const onData = (chunk: Buffer): void => {
      received = Buffer.concat([received, chunk]);
      let head: ResponseHead | null;
      try {
        head = parseResponseHead(received);
      } catch (error) {
        fail(error as Error);
        return;
      }
      if (head === null) {
        if (received.length > 16_384) fail(new Error('response head over 16 KiB'));
        return;
      }
      if (head.status !== 101) return fail(new Error(`status ${head.status}, not 101`));
      if (head.headers.get('sec-websocket-accept') !== acceptOf(key)) return fail(new Error('wrong Sec-WebSocket-Accept'));
      clearTimeout(timer);
      socket.pause();
      socket.off('data', onData);
      socket.removeAllListeners('error');
      socket.removeAllListeners('close');
      resolve({ socket, head, leftover: received.subarray(head.length) });
    };
    socket.on('data', onData);
  });
}

/** What {@link echoCheck} saw. */
export interface EchoResult {
  ok: boolean;
  /** Milliseconds from connecting to the echo. */
  ms: number;
  /** Why it failed. */
  error?: string;
}

/**
 * The control client: connects, sends one masked binary message of `size` random bytes,
 * and succeeds when the same bytes come back as binary within `timeoutMs`; then closes
 * with 1000 (not waiting for the reply). Never throws.
 */
export async function echoCheck(port: number, timeoutMs = 10_000, size = 1024): Promise<EchoResult> {
  const started = Date.now();
  let conn: RawConnection;
  try {
    conn = await openRaw(port, { timeoutMs });
  } catch (error) {
    return { ok: false, ms: Date.now() - started, error: (error as Error).message };
  }
  const { socket } = conn;
  const payload = randomBytes(size);
  const reader = new ServerFrameReader();
  return new Promise<EchoResult>((resolve) => {
    let finished = false;
    const done = (result: EchoResult): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.removeAllListeners('data');
      if (result.ok) socket.end(maskedFrame(Opcode.Close, closePayload(1000), { maskKey: randomBytes(4) }));
      else socket.destroy();
      socket.on('error', () => {});
      // Whatever the server answers, the socket goes within a second.
      setTimeout(() => socket.destroy(), 1000).unref();
      resolve(result);
    };
    const timer = setTimeout(() => done({ ok: false, ms: Date.now() - started, error: `no echo within ${timeoutMs} ms` }), timeoutMs);
    const onBytes = (chunk: Uint8Array): void => {
      let frames;
      try {
        frames = reader.push(chunk);
      } catch (error) {
        return done({ ok: false, ms: Date.now() - started, error: (error as Error).message });
      }
      for (const frame of frames) {
        if (frame.opcode === Opcode.Close) return done({ ok: false, ms: Date.now() - started, error: `closed ${closeCodeOf(frame.payload)}` });
        if (frame.opcode !== Opcode.Binary || !frame.fin) return done({ ok: false, ms: Date.now() - started, error: `unexpected frame opcode ${frame.opcode}` });
        const same = Buffer.compare(Buffer.from(frame.payload), payload) === 0;
        return done(same ? { ok: true, ms: Date.now() - started } : { ok: false, ms: Date.now() - started, error: 'echo differs' });
      }
    };
    socket.on('error', (error) => done({ ok: false, ms: Date.now() - started, error: error.message }));
    socket.on('close', () => done({ ok: false, ms: Date.now() - started, error: 'closed without echo' }));
    socket.on('data', onBytes);
    if (conn.leftover.length > 0) onBytes(conn.leftover);
    socket.write(maskedFrame(Opcode.Binary, payload, { maskKey: randomBytes(4) }));
    socket.resume();
  });
}
