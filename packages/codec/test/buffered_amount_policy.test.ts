// maxBufferedAmount and bufferedAmountPolicy: a peer that never reads cannot make a
// connection buffer without bound. Over a transport whose queue only empties when the
// test says the peer read: 'close' queues a Close 1008 behind the accepted data and the
// close timeout drops a peer that still does not read; 'drop' destroys the transport at
// once (1006); either way the user hears of it through onerror with the close code.
import { describe, expect, it } from 'vitest';
import { BufferedAmountError, checkBufferedAmountLimit, defaultMaxBufferedAmount } from '../src/buffered_amount_policy.ts';
import { WebSocketConnection, type ByteTransport, type CloseInfo, type ConnectionOptions } from '../src/connection.ts';
import { Opcode } from '../src/constants.ts';
import { connectionOptionsOf } from '@wsflow/engine';
import { concatList, decodeWritten, toHex, wire, type WrittenFrame } from './helpers.ts';
import { manualTimers } from './manual_timers.ts';

/** A transport whose written bytes stay queued (counted in bufferedAmount) until `read()`. */
class SlowPeerTransport implements ByteTransport {
  queued: Uint8Array[] = [];
  delivered: Uint8Array[] = [];
  destroyed = false;
  ended = false;
  connection: WebSocketConnection | null = null;

  get bufferedAmount(): number {
    return this.queued.reduce((n, chunk) => n + chunk.length, 0);
  }

  write(chunk: Uint8Array): void {
    if (!this.destroyed) this.queued.push(chunk.slice());
  }

  writev(chunks: Uint8Array[]): void {
    for (const chunk of chunks) this.write(chunk);
  }

  end(): void {
    this.ended = true;
  }

  destroy(): void {
    this.destroyed = true;
    this.queued = [];
  }

  pause(): void {}
  resume(): void {}

  /** The peer reads everything queued: the queue drains. */
  read(): void {
    this.delivered.push(...this.queued.splice(0));
    this.connection?.drain();
  }

  /** The frames the peer got (it reads as a client: unmasked frames from the server). */
  frames(): WrittenFrame[] {
    return decodeWritten('server', concatList(this.delivered));
  }
}

function open(options: Partial<ConnectionOptions>) {
  const transport = new SlowPeerTransport();
  const timers = manualTimers();
  const connection = new WebSocketConnection(transport, { role: 'server', timers, closeTimeout: 1000, ...options });
  transport.connection = connection;
  const errors: Error[] = [];
  connection.onerror = (error) => errors.push(error);
  let closed: CloseInfo | null = null;
  void connection.closed.then((info) => (closed = info));
  return { transport, timers, connection, errors, closedInfo: () => closed };
}

const kib = (n: number): Uint8Array => new Uint8Array(n * 1024).fill(0x61);
/** Lets promise callbacks run. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('the limit options', () => {
  it('default to 16 MiB plus maxMessage for a server (32 MiB), no limit for a client, and the close policy', () => {
    const MiB = 1024 * 1024;
    expect(defaultMaxBufferedAmount('server')).toBe(32 * MiB);
    // The echo tool's 64 MiB messages: an echo of the largest still fits on 16 MiB of backlog.
    expect(defaultMaxBufferedAmount('server', 64 * MiB)).toBe(80 * MiB);
    // No message limit: the default message size's room, never no limit.
    expect(defaultMaxBufferedAmount('server', Infinity)).toBe(32 * MiB);
    expect(defaultMaxBufferedAmount('client')).toBe(Infinity);
    expect(defaultMaxBufferedAmount('client', MiB)).toBe(Infinity);
    expect(checkBufferedAmountLimit({}, 'server')).toEqual({ maxBufferedAmount: 32 * MiB, bufferedAmountPolicy: 'close' });
    expect(checkBufferedAmountLimit({ maxMessage: MiB }, 'server')).toEqual({ maxBufferedAmount: 17 * MiB, bufferedAmountPolicy: 'close' });
    expect(checkBufferedAmountLimit({}, 'client')).toEqual({ maxBufferedAmount: Infinity, bufferedAmountPolicy: 'close' });
    expect(checkBufferedAmountLimit({})).toEqual({ maxBufferedAmount: Infinity, bufferedAmountPolicy: 'close' });
    expect(checkBufferedAmountLimit({ maxBufferedAmount: 4096, bufferedAmountPolicy: 'drop' })).toEqual({ maxBufferedAmount: 4096, bufferedAmountPolicy: 'drop' });
  });

  it.each([0, -1, 1.5, Number.NaN, '10'])('refuse maxBufferedAmount %s with a RangeError, also when a connection is made', (value) => {
    expect(() => checkBufferedAmountLimit({ maxBufferedAmount: value as number })).toThrow(RangeError);
    expect(() => new WebSocketConnection(new SlowPeerTransport(), { role: 'server', maxBufferedAmount: value as number })).toThrow(/maxBufferedAmount must be a positive integer/);
  });

  it('refuse an unknown policy', () => {
    expect(() => checkBufferedAmountLimit({ bufferedAmountPolicy: 'ignore' as never })).toThrow(/bufferedAmountPolicy must be 'close' or 'drop'/);
  });

  it('reach the connection from the shims settings', () => {
    const options = connectionOptionsOf({ maxBufferedAmount: 1 << 20, bufferedAmountPolicy: 'drop' }, { role: 'server', protocol: '', timers: manualTimers() });
    expect(options.maxBufferedAmount).toBe(1 << 20);
    expect(options.bufferedAmountPolicy).toBe('drop');
  });
});

describe('the default limit', () => {
  const MiB = 1024 * 1024;

  it('a server whose peer never reads is closed with 1008 once 32 MiB are queued, and holds no more', () => {
    const { connection, errors, transport } = open({});
    const chunk = kib(64);
    let accepted = 0;
    // Asked for 128 MiB; the sends stop being accepted once closing started.
    while (accepted < 128 * MiB && connection.send(chunk)) accepted += chunk.length;
    expect(errors).toHaveLength(1);
    const error = errors[0] as BufferedAmountError;
    expect(error).toBeInstanceOf(BufferedAmountError);
    expect(error.closeCode).toBe(1008);
    expect(error.maxBufferedAmount).toBe(32 * MiB);
    // The send that crossed the limit is the last one accepted: the 512th message of 64 KiB,
    // whose 10-octet headers (64-bit length: 65 536 > 65 535) put 32 MiB + 5 KiB in the queue.
    expect(accepted).toBe(32 * MiB);
    expect(error.bufferedAmount).toBe(512 * (65536 + 10));
    expect(connection.state).toBe('closing');
    expect(transport.destroyed).toBe(false);
    // The Close 1008 is queued behind the accepted data.
    const last = transport.queued[transport.queued.length - 1];
    expect(toHex(last.subarray(0, 4))).toBe('88 12 03 f0'); // FIN+Close, 18 octets: 1008 and "peer not reading"
  });

  it('a server connection with the default limit buffers 32 MiB without complaint (the limit is not lower)', () => {
    const { connection, errors } = open({});
    const chunk = kib(64);
    // 511 messages of 64 KiB with 10-octet headers: 32 MiB - 59 KiB queued, under the limit.
    for (let i = 0; i < 511; i++) expect(connection.send(chunk)).toBe(true);
    expect(connection.bufferedAmount).toBeLessThanOrEqual(32 * MiB);
    expect(errors).toEqual([]);
    expect(connection.state).toBe('open');
  });

  it('a server with a smaller maxMessage closes sooner: 16 MiB plus its 1 MiB', () => {
    const { connection, errors } = open({ maxMessage: MiB });
    const chunk = kib(64);
    let accepted = 0;
    while (accepted < 64 * MiB && connection.send(chunk)) accepted += chunk.length;
    expect((errors[0] as BufferedAmountError).maxBufferedAmount).toBe(17 * MiB);
    expect((errors[0] as BufferedAmountError).closeCode).toBe(1008);
    expect(accepted).toBe(17 * MiB);
  });

  it('a client has no default limit: send keeps its WHATWG meaning past 32 MiB', () => {
    const transport = new SlowPeerTransport();
    const connection = new WebSocketConnection(transport, { role: 'client', timers: manualTimers() });
    const errors: Error[] = [];
    connection.onerror = (error) => errors.push(error);
    const chunk = kib(64);
    for (let i = 0; i < 40 * 16; i++) expect(connection.send(chunk)).toBe(true);
    expect(connection.bufferedAmount).toBeGreaterThan(40 * MiB);
    expect(errors).toEqual([]);
    expect(connection.state).toBe('open');
    expect(transport.destroyed).toBe(false);
  });
});

describe('without a limit', () => {
  it('a server buffers whatever it is asked to send to a peer that does not read', () => {
    const { connection, errors, transport } = open({ maxBufferedAmount: Infinity });
    for (let i = 0; i < 64; i++) expect(connection.send(kib(64))).toBe(true);
    expect(connection.bufferedAmount).toBeGreaterThan(4 * 1024 * 1024);
    expect(errors).toEqual([]);
    expect(connection.state).toBe('open');
    expect(transport.destroyed).toBe(false);
  });
});

describe("policy 'close'", () => {
  it('a send past the limit is accepted, then a Close 1008 is queued behind it and onerror says why', () => {
    const { connection, errors, transport } = open({ maxBufferedAmount: 10 * 1024 });
    expect(connection.send(kib(6))).toBe(true);
    expect(errors).toEqual([]);
    // 12 KiB and headers queued: over the limit.
    expect(connection.send(kib(6))).toBe(true);
    expect(errors).toHaveLength(1);
    const error = errors[0] as BufferedAmountError;
    expect(error).toBeInstanceOf(BufferedAmountError);
    expect(error.closeCode).toBe(1008);
    expect(error.code).toBe('BUFFERED_AMOUNT_EXCEEDED');
    expect(error.policy).toBe('close');
    expect(error.maxBufferedAmount).toBe(10 * 1024);
    expect(error.bufferedAmount).toBe(2 * (6 * 1024 + 4));
    expect(error.message).toMatch(/exceeded maxBufferedAmount \(10240 bytes\).*closing with 1008/);
    expect(connection.state).toBe('closing');
    // Nothing more is accepted once closing started.
    expect(connection.send('late')).toBe(false);
    transport.read();
    const frames = transport.frames();
    expect(frames.map((f) => f.opcode)).toEqual([Opcode.Binary, Opcode.Binary, Opcode.Close]);
    // 03 f0 = 1008, then the reason.
    expect(toHex(frames[2].payload.subarray(0, 2))).toBe('03 f0');
    expect(new TextDecoder().decode(frames[2].payload.subarray(2))).toBe('peer not reading');
  });

  it('a peer that never reads is dropped by the close timeout: closed says 1006', async () => {
    const { connection, transport, timers, closedInfo } = open({ maxBufferedAmount: 4096, closeTimeout: 1000 });
    for (let i = 0; i < 3; i++) connection.send(kib(2));
    expect(connection.state).toBe('closing');
    timers.advance(999);
    expect(transport.destroyed).toBe(false);
    timers.advance(1);
    expect(transport.destroyed).toBe(true);
    await settle();
    expect(closedInfo()).toEqual({ closeCode: 1006, reason: '', wasClean: false });
    expect(connection.state).toBe('closed');
  });

  it('a slow peer that reads in the end gets every accepted message, then the Close, and the close is clean', async () => {
    const { connection, transport, closedInfo, errors } = open({ maxBufferedAmount: 8 * 1024 });
    const sent: number[] = [];
    for (let i = 0; i < 10; i++) {
      const data = new Uint8Array(1024).fill(i);
      if (connection.send(data)) sent.push(i);
    }
    // 8 messages of 1028 octets fit under 8 KiB; the 8th passes it and is still accepted.
    expect(sent).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(errors).toHaveLength(1);
    transport.read();
    const frames = transport.frames();
    expect(frames.slice(0, -1).map((f) => f.payload[0])).toEqual(sent);
    expect(frames.at(-1)?.opcode).toBe(Opcode.Close);
    // The peer answers the Close.
    connection.receive(wire('server', [Opcode.Close, new Uint8Array([0x03, 0xf0])]));
    connection.transportClosed();
    await settle();
    expect(closedInfo()).toEqual({ closeCode: 1008, reason: '', wasClean: true });
  });

  it('under the limit nothing happens, and the limit counts what is still queued, not what was sent', () => {
    const { connection, transport, errors } = open({ maxBufferedAmount: 4096 });
    for (let i = 0; i < 100; i++) {
      expect(connection.send(kib(3))).toBe(true);
      transport.read();
    }
    expect(errors).toEqual([]);
    expect(connection.state).toBe('open');
  });

  it('counts fragments and Pings too', () => {
    const fragments = open({ maxBufferedAmount: 1000 });
    expect(fragments.connection.sendFragment('a'.repeat(600), false)).toBe(true);
    expect(fragments.connection.sendFragment('b'.repeat(600), false)).toBe(true);
    expect(fragments.errors).toHaveLength(1);
    expect(fragments.connection.state).toBe('closing');

    const pings = open({ maxBufferedAmount: 1000 });
    let accepted = 0;
    while (pings.connection.ping('p'.repeat(125)) && accepted < 100) accepted++;
    // 127 octets a Ping: the 8th passes 1000.
    expect(accepted).toBe(8);
    expect(pings.errors[0]).toBeInstanceOf(BufferedAmountError);
  });

  it('counts the Pongs answering a burst of Pings from a peer that does not read', () => {
    const { connection, transport, errors } = open({ maxBufferedAmount: 2000 });
    const ping = wire('server', [Opcode.Ping, 'x'.repeat(100)]);
    // Received in one chunk: the Pongs go out as one batch, then the limit is checked.
    connection.receive(concatList(Array.from({ length: 30 }, () => ping)));
    expect(errors).toHaveLength(1);
    expect((errors[0] as BufferedAmountError).closeCode).toBe(1008);
    transport.read();
    const opcodes = transport.frames().map((f) => f.opcode);
    expect(opcodes.filter((op) => op === Opcode.Pong)).toHaveLength(30);
    expect(opcodes.at(-1)).toBe(Opcode.Close);
  });

  it('applies once, even if onerror throws (the throw is reported, not rethrown from send)', () => {
    const reported: unknown[] = [];
    const { connection, transport } = open({ maxBufferedAmount: 100, onCallbackError: (error) => void reported.push(error) });
    connection.onerror = () => {
      throw new Error('a handler bug');
    };
    expect(() => connection.send(kib(1))).not.toThrow();
    expect(reported.map((e) => (e as Error).message)).toEqual(['a handler bug']);
    expect(connection.state).toBe('closing');
    transport.read();
    expect(transport.frames().filter((f) => f.opcode === Opcode.Close)).toHaveLength(1);
  });
});

describe("policy 'drop'", () => {
  it('destroys the transport at once: closed says 1006, onerror gives the code, nothing more is written', async () => {
    const { connection, transport, errors, closedInfo } = open({ maxBufferedAmount: 4096, bufferedAmountPolicy: 'drop' });
    const events: string[] = [];
    connection.onerror = (error) => {
      errors.push(error);
      events.push('error');
    };
    connection.onclose = () => events.push('close');
    expect(connection.send(kib(3))).toBe(true);
    expect(transport.destroyed).toBe(false);
    expect(connection.send(kib(3))).toBe(true);
    expect(transport.destroyed).toBe(true);
    expect(events).toEqual(['error', 'close']);
    const error = errors[0] as BufferedAmountError;
    expect(error.closeCode).toBe(1006);
    expect(error.policy).toBe('drop');
    expect(error.message).toMatch(/connection dropped \(1006\)/);
    expect(connection.state).toBe('closed');
    expect(connection.send('late')).toBe(false);
    await settle();
    expect(closedInfo()).toEqual({ closeCode: 1006, reason: '', wasClean: false });
  });

  it('drops a peer that sends Pings without reading the Pongs, discarding the batch', () => {
    const { connection, transport, errors } = open({ maxBufferedAmount: 1000, bufferedAmountPolicy: 'drop' });
    const ping = wire('server', [Opcode.Ping, 'y'.repeat(100)]);
    connection.receive(concatList(Array.from({ length: 20 }, () => ping)));
    expect(errors).toHaveLength(1);
    expect(transport.destroyed).toBe(true);
    expect(transport.queued).toEqual([]);
    expect(connection.state).toBe('closed');
  });

  it('a send from a message handler past the limit drops the connection mid-batch without writing the batch', () => {
    const { connection, transport, errors } = open({ maxBufferedAmount: 1000, bufferedAmountPolicy: 'drop' });
    connection.onmessage = (data) => connection.send(`${String(data)}${'!'.repeat(600)}`);
    connection.receive(wire('server', [Opcode.Text, 'one'], [Opcode.Text, 'two'], [Opcode.Text, 'three']));
    expect(errors).toHaveLength(1);
    expect(transport.destroyed).toBe(true);
    expect(transport.queued).toEqual([]);
    expect(transport.delivered).toEqual([]);
  });
});
