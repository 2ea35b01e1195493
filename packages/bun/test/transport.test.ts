// BunSocketTransport against a scripted fake socket: partial writes queued in order and
// counted, flushed on drain (small chunks merged), end() only after the queue is out, and
// the two reasons to pause reading.
import { describe, expect, test } from 'vitest';
import type { SocketReceiver as TransportReceiver } from '@wsflow/engine';
import type { BunSocket } from '../src/bun_types.ts';
import { BunSocketTransport } from '../src/socket_transport.ts';

/** A socket that takes at most `capacity` bytes per write and records what it did. */
class FakeSocket {
  data!: BunSocketTransport;
  capacity = Infinity;
  written: number[] = [];
  calls: string[] = [];
  remoteAddress = '10.0.0.1';
  readyState = 1;

  write(bytes: Uint8Array): number {
    if (this.readyState < 0) return -1;
    const n = Math.min(bytes.length, this.capacity);
    this.written.push(...bytes.subarray(0, n));
    this.calls.push(`write ${bytes.length}->${n}`);
    return n;
  }
  end(): number {
    this.calls.push('end');
    return 0;
  }
  shutdown(): void {
    this.calls.push('shutdown');
  }
  terminate(): void {
    this.calls.push('terminate');
    this.readyState = -1;
  }
  pause(): void {
    this.calls.push('pause');
  }
  resume(): void {
    this.calls.push('resume');
  }
  setNoDelay(): boolean {
    return true;
  }
  upgradeTLS(): never {
    throw new Error('not in this fake');
  }
}

function setup(): { fake: FakeSocket; transport: BunSocketTransport; events: string[] } {
  const fake = new FakeSocket();
  const transport = new BunSocketTransport(fake as unknown as BunSocket<BunSocketTransport>);
  const events: string[] = [];
  const receiver: TransportReceiver = {
    receive: (chunk) => events.push(`data ${chunk.length}`),
    receiveEnd: () => events.push('end'),
    transportClosed: (error) => events.push(`closed ${String(error)}`),
    drain: () => events.push('drain'),
  };
  transport.receiver = receiver;
  return { fake, transport, events };
}

const bytes = (from: number, length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (from + i) & 0xff);

describe('BunSocketTransport', () => {
  test('keeps what a partial write left, in order, counted in bufferedAmount', () => {
    const { fake, transport } = setup();
    fake.capacity = 3;
    transport.write(bytes(0, 5));
    transport.write(bytes(5, 4));
    expect(transport.bufferedAmount).toBe(6);
    expect(fake.written).toEqual([0, 1, 2]);
    fake.capacity = Infinity;
    transport.handleDrain();
    expect(fake.written).toEqual([...bytes(0, 9)]);
    expect(transport.bufferedAmount).toBe(0);
  });

  test('tells the receiver of a drain only once the queue is empty', () => {
    const { fake, transport, events } = setup();
    fake.capacity = 0;
    transport.write(bytes(0, 10));
    fake.capacity = 4;
    transport.handleDrain();
    expect(events).toEqual([]);
    expect(transport.bufferedAmount).toBe(6);
    fake.capacity = Infinity;
    transport.handleDrain();
    expect(events).toEqual(['drain']);
  });

  test('merges small queued chunks into one write on drain', () => {
    const { fake, transport } = setup();
    fake.capacity = 0;
    for (let i = 0; i < 100; i++) transport.write(bytes(i * 10, 10));
    fake.calls = [];
    fake.capacity = Infinity;
    transport.handleDrain();
    expect(fake.calls).toEqual(['write 1000->1000']);
    expect(fake.written).toEqual([...bytes(0, 1000)]);
  });

  test('writev merges runs of small chunks into one write and writes large ones as they are', () => {
    const { fake, transport } = setup();
    const small = Array.from({ length: 50 }, (_, i) => bytes(i * 20, 20));
    const large = bytes(7, 100_000);
    transport.writev([...small, large, bytes(1, 10), bytes(2, 10)]);
    expect(fake.calls).toEqual(['write 1000->1000', 'write 100000->100000', 'write 20->20']);
    expect(fake.written.length).toBe(1000 + 100_000 + 20);
    expect(fake.written.slice(0, 1000)).toEqual([...small.flatMap((c) => [...c])]);
  });

  test('end() waits for the queue, then half-closes (shutdown, not Bun end)', () => {
    const { fake, transport } = setup();
    fake.capacity = 2;
    transport.write(bytes(0, 4));
    transport.end();
    expect(fake.calls).not.toContain('shutdown');
    transport.write(bytes(9, 3)); // dropped: the transport is ending
    fake.capacity = Infinity;
    transport.handleDrain();
    expect(fake.written).toEqual([0, 1, 2, 3]);
    expect(fake.calls.at(-1)).toBe('shutdown');
    expect(fake.calls).not.toContain('end');
  });

  test('destroy() drops the queue and resets the socket', () => {
    const { fake, transport } = setup();
    fake.capacity = 0;
    transport.write(bytes(0, 100));
    transport.destroy();
    expect(transport.bufferedAmount).toBe(0);
    expect(fake.calls.at(-1)).toBe('terminate');
    expect(transport.closed).toBe(true);
  });

  test('reading is paused while either the connection or a handshake holds it', () => {
    const { fake, transport } = setup();
    transport.pause();
    transport.hold();
    transport.resume();
    expect(fake.calls).toEqual(['pause']);
    transport.release();
    expect(fake.calls).toEqual(['pause', 'resume']);
  });

  test('socket events go to the receiver; a close drops the queue and reports the error', () => {
    const { fake, transport, events } = setup();
    fake.capacity = 0;
    transport.write(bytes(0, 10));
    transport.handleData(bytes(0, 7));
    transport.handleEnd();
    transport.handleError(new Error('reset'));
    transport.handleClose();
    expect(events).toEqual(['data 7', 'end', 'closed Error: reset']);
    expect(transport.bufferedAmount).toBe(0);
    expect(transport.remoteAddress).toBe('10.0.0.1');
  });

  test('a TLS handshake outcome is reported once, and a close before it is a failure', () => {
    const { transport } = setup();
    const outcomes: Array<string | null> = [];
    transport.onSecure = (error) => outcomes.push(error === null ? null : error.message);
    transport.handleHandshake(false, new Error('self signed certificate'));
    transport.handleHandshake(true, null);
    expect(outcomes).toEqual(['self signed certificate']);
    transport.onSecure = (error) => outcomes.push(error === null ? null : error.message);
    transport.handleClose();
    expect(outcomes).toEqual(['self signed certificate', 'The connection closed during the TLS handshake']);
  });
});
