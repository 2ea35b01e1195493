// A peer that floods Pings and never reads what we send must not make us queue a Pong per
// Ping: once 64 KiB are queued, automatic Pongs are held, and only the most recent Ping is
// answered (RFC 6455 §5.5.3) when the queue drains. Before, 24 MiB of Pings queued 35 to
// 85 MiB of Pongs.
import { describe, expect, it } from 'vitest';
import { WebSocketConnection, type ByteTransport } from '../src/connection.ts';
import { Opcode, type Role } from '../src/constants.ts';
import { WebSocketProtocol } from '../src/protocol.ts';
import { concatList, decodeWritten, toHex, wire, type WrittenFrame } from './helpers.ts';
import { manualTimers } from './manual_timers.ts';

const HOLD_AT = 64 * 1024;
/** The longest Pong frame: 125 octets of payload, a 2-octet header and, from a client, a 4-octet key. */
const PONG_MAX = 125 + 2 + 4;

/** A transport whose writes stay queued until `read()`, or are taken at once when `fast`. */
class PeerTransport implements ByteTransport {
  queued: Uint8Array[] = [];
  queuedBytes = 0;
  delivered: Uint8Array[] = [];
  connection: WebSocketConnection | null = null;
  drains = 0;

  constructor(readonly fast = false) {}

  get bufferedAmount(): number {
    return this.queuedBytes;
  }

  write(chunk: Uint8Array): void {
    if (this.fast) this.delivered.push(chunk.slice());
    else {
      this.queued.push(chunk.slice());
      this.queuedBytes += chunk.length;
    }
  }

  end(): void {}
  destroy(): void {}
  pause(): void {}
  resume(): void {}

  /** The peer reads all that is queued, and the transport signals the drain. */
  read(): void {
    this.delivered.push(...this.queued.splice(0));
    this.queuedBytes = 0;
    this.drains++;
    this.connection?.drain();
  }

  frames(from: Role): WrittenFrame[] {
    return decodeWritten(from, concatList(this.delivered));
  }
}

function open(role: Role, fast = false): { connection: WebSocketConnection; transport: PeerTransport } {
  const transport = new PeerTransport(fast);
  const connection = new WebSocketConnection(transport, { role, timers: manualTimers() });
  transport.connection = connection;
  return { connection, transport };
}

/** `count` Pings to `to`, each with a 125-octet payload that starts with its index. */
function pings(to: Role, count: number, from = 0): { bytes: Uint8Array; last: Uint8Array } {
  const frames: Uint8Array[] = [];
  let last = new Uint8Array(0);
  for (let i = from; i < from + count; i++) {
    last = new Uint8Array(125).fill(0x70);
    new DataView(last.buffer).setUint32(0, i);
    frames.push(wire(to, [Opcode.Ping, last]));
  }
  return { bytes: concatList(frames), last };
}

/** `bytes` fed as reads of `size` octets. */
function feed(connection: WebSocketConnection, bytes: Uint8Array, size: number): void {
  for (let at = 0; at < bytes.length; at += size) connection.receive(bytes.slice(at, at + size));
}

describe('automatic Pongs to a peer that does not read', () => {
  for (const role of ['server', 'client'] as const) {
    it(`${role}: 2 MiB of Pings in 64 KiB reads queue at most 64 KiB of Pongs; the last Ping is answered once the queue drains`, () => {
      const { connection, transport } = open(role);
      const { bytes, last } = pings(role, 16_000);
      let worst = 0;
      for (let at = 0; at < bytes.length; at += 64 * 1024) {
        connection.receive(bytes.slice(at, at + 64 * 1024));
        worst = Math.max(worst, transport.queuedBytes);
      }
      expect(worst).toBeLessThan(HOLD_AT + PONG_MAX);
      const before = transport.queued.length;
      transport.read();
      const frames = transport.frames(role);
      expect(frames.every((f) => f.opcode === Opcode.Pong)).toBe(true);
      // One more Pong after the drain, for the most recent Ping, and only one.
      expect(transport.queued.length).toBe(1);
      transport.read();
      const after = transport.frames(role);
      expect(after.length).toBe(frames.length + 1);
      expect(toHex(after[after.length - 1]!.payload)).toBe(toHex(last));
      expect(before).toBeGreaterThan(0);
      // And nothing more is held: a third drain sends nothing.
      transport.read();
      expect(transport.frames(role).length).toBe(after.length);
    });
  }

  it('Pings one per read: the same bound, and a Ping after the drain is answered at once', () => {
    const { connection, transport } = open('server');
    const first = pings('server', 2000);
    const frameLength = first.bytes.length / 2000;
    feed(connection, first.bytes, frameLength);
    expect(transport.queuedBytes).toBeLessThan(HOLD_AT + PONG_MAX);
    transport.read();
    transport.read();
    const answered = transport.frames('server').length;
    expect(answered).toBeLessThan(2000);
    expect(toHex(transport.frames('server')[answered - 1]!.payload)).toBe(toHex(first.last));
    const next = pings('server', 1, 5000);
    connection.receive(next.bytes);
    expect(transport.queuedBytes).toBe(2 + 125);
  });

  it('a peer that reads gets a Pong for every Ping, in order', () => {
    const { connection, transport } = open('server', true);
    const { bytes } = pings('server', 300);
    feed(connection, bytes, 1000);
    const frames = transport.frames('server');
    expect(frames.length).toBe(300);
    expect(frames.map((f) => new DataView(f.payload.buffer).getUint32(0))).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('a held Pong goes out when the transport takes the whole batch at once (no drain is signalled)', () => {
    // 1000 Pings in one read: their Pongs fill the batch past 64 KiB, the rest are held;
    // the transport then takes the batch at once, so the held Pong is written right after.
    const { connection, transport } = open('server', true);
    const { bytes, last } = pings('server', 1000);
    connection.receive(bytes);
    const frames = transport.frames('server');
    expect(frames.length).toBeLessThan(1000);
    expect(toHex(frames[frames.length - 1]!.payload)).toBe(toHex(last));
  });

  it('a held Pong is dropped once we sent a Close: nothing follows the Close', () => {
    const { connection, transport } = open('server');
    feed(connection, pings('server', 2000).bytes, 64 * 1024);
    connection.close({ closeCode: 1000 });
    transport.read();
    transport.read();
    const frames = transport.frames('server');
    expect(frames[frames.length - 1]!.opcode).toBe(Opcode.Close);
  });
});

describe('WebSocketProtocol.holdPong / sendHeldPong (sans-I/O)', () => {
  it('a held Pong is replaced by the next Ping\'s, written once by sendHeldPong, and onping still hears every Ping', () => {
    let hold = true;
    const out: Uint8Array[] = [];
    const pinged: string[] = [];
    const ws = new WebSocketProtocol({ role: 'client' }, { write: (b) => out.push(b.slice()), holdPong: () => hold, onPing: (p) => pinged.push(toHex(p)) });
    ws.receiveData(Uint8Array.of(0x89, 0x01, 0x01));
    ws.receiveData(Uint8Array.of(0x89, 0x01, 0x02));
    expect(out).toEqual([]);
    expect(pinged).toEqual(['01', '02']);
    expect(ws.hasHeldPong).toBe(true);
    hold = false;
    expect(ws.sendHeldPong()).toBe(true);
    expect(ws.sendHeldPong()).toBe(false);
    const frames = decodeWritten('client', concatList(out));
    expect(frames.map((f) => [f.opcode, toHex(f.payload)])).toEqual([[Opcode.Pong, '02']]);
  });

  it('a Ping answered at once drops the Pong held for an older one', () => {
    let hold = true;
    const out: Uint8Array[] = [];
    const ws = new WebSocketProtocol({ role: 'client' }, { write: (b) => out.push(b.slice()), holdPong: () => hold });
    ws.receiveData(Uint8Array.of(0x89, 0x01, 0x01));
    hold = false;
    ws.receiveData(Uint8Array.of(0x89, 0x01, 0x02));
    expect(ws.hasHeldPong).toBe(false);
    expect(ws.sendHeldPong()).toBe(false);
    expect(decodeWritten('client', concatList(out)).map((f) => toHex(f.payload))).toEqual(['02']);
  });

  it('a held Pong goes out just ahead of our Close, and nothing after it', () => {
    const out: Uint8Array[] = [];
    const ws = new WebSocketProtocol({ role: 'client' }, { write: (b) => out.push(b.slice()), holdPong: () => true });
    ws.receiveData(Uint8Array.of(0x89, 0x01, 0x01));
    ws.close(1000);
    expect(ws.sendHeldPong()).toBe(false);
    expect(decodeWritten('client', concatList(out)).map((f) => [f.opcode, toHex(f.payload)])).toEqual([
      [Opcode.Pong, '01'],
      [Opcode.Close, '03 e8'],
    ]);
  });

  it("a Ping held before the peer's Close is answered ahead of the Close reply (RFC 6455 §5.5.2)", () => {
    const out: Uint8Array[] = [];
    const ws = new WebSocketProtocol({ role: 'server' }, { write: (b) => out.push(b.slice()), holdPong: () => true });
    // Masked client frames: Ping 07, then Close 1000.
    ws.receiveData(Uint8Array.of(0x89, 0x81, 0, 0, 0, 0, 0x07, 0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8));
    expect(decodeWritten('server', concatList(out)).map((f) => [f.opcode, toHex(f.payload)])).toEqual([
      [Opcode.Pong, '07'],
      [Opcode.Close, '03 e8'],
    ]);
  });
});
