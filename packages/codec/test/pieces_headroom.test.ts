// How the frame parser gathers payloads from chunks it was handed (`mutableInput`): pieces
// that lie back to back in one buffer become one view (no copy), others are copied once;
// binary pieces stay masked until the frame is whole, text pieces are unmasked as they
// come (validated as they come). And headroom: a large payload received right behind its
// header can be sent back with its new header written where the old one was, as one
// buffer (one write on runtimes without writev).
import { describe, expect, it } from 'vitest';
import { WebSocketConnection, type ByteTransport } from '../src/connection.ts';
import { Opcode } from '../src/constants.ts';
import { FrameParser } from '../src/frame_parser.ts';
import { writeFrameTo } from '../src/frame_serializer.ts';
import { takeHeadroom } from '../src/headroom.ts';
import type { Role } from '../src/constants.ts';
import { concatList, decodeWritten, rng, toHex, wire } from './helpers.ts';

interface Got {
  opcode: number;
  /** The payload as the sink got it (not copied), to check where it lives. */
  payload: Uint8Array;
  /** Its octets when it arrived (the buffer may be reused by a later test step). */
  hex: string;
  partial: number[];
}

/** A parser whose sink keeps the payload objects it is given. */
function parser(role: Role, mutableInput: boolean, partials = false): { parser: FrameParser; got: Got[] } {
  const got: Got[] = [];
  let partial: number[] = [];
  const p = new FrameParser(
    { role, maxPayload: Infinity, mutableInput },
    {
      frameHeader: () => partials,
      framePartial: (piece) => void partial.push(piece.length),
      frame: (_fin, _rsv, opcode, payload) => {
        got.push({ opcode, payload, hex: toHex(payload), partial });
        partial = [];
      },
    },
  );
  return { parser: p, got };
}

/** `bytes` copied into the middle of a bigger buffer, as consecutive views cut at `cuts` (reads into one slab). */
function slabViews(bytes: Uint8Array, cuts: number[]): { slab: Uint8Array; views: Uint8Array[]; base: number } {
  const base = 100;
  const slab = new Uint8Array(bytes.length + 2 * base);
  slab.set(bytes, base);
  const points = [0, ...cuts, bytes.length];
  const views = points.slice(1).map((end, i) => slab.subarray(base + points[i], base + end));
  return { slab, views, base };
}

const random = rng(7);

describe('split payloads from handed-over chunks', () => {
  it('a binary frame split across reads into one buffer is delivered as a view of that buffer, unmasked once', () => {
    const payload = random.bytes(300_000);
    const frame = wire('server', [Opcode.Binary, payload]); // 14-octet header
    const { slab, views, base } = slabViews(frame, [9, 70_001, 70_002, 250_003]);
    const { parser: p, got } = parser('server', true);
    for (const v of views) p.push(v);
    expect(got).toHaveLength(1);
    expect(got[0].hex).toBe(toHex(payload));
    expect(got[0].payload.buffer).toBe(slab.buffer);
    expect(got[0].payload.byteOffset).toBe(base + 14);
  });

  it('a text frame split the same way is unmasked piece by piece (each piece reported) and delivered as a view', () => {
    const payload = random.bytes(100_000);
    const frame = wire('server', [Opcode.Text, payload]);
    const { slab, views, base } = slabViews(frame, [14, 50_000, 50_001]);
    const { parser: p, got } = parser('server', true, true);
    for (const v of views) p.push(v);
    expect(got[0].hex).toBe(toHex(payload));
    expect(got[0].partial).toEqual([50_000 - 14, 1]);
    expect(got[0].payload.buffer).toBe(slab.buffer);
    expect(got[0].payload.byteOffset).toBe(base + 14);
  });

  it('a client (unmasked frames) gets a view too', () => {
    const payload = random.bytes(200_000);
    const frame = wire('client', [Opcode.Binary, payload]);
    const { slab, views } = slabViews(frame, [5, 100_000]);
    const { parser: p, got } = parser('client', true);
    for (const v of views) p.push(v);
    expect(got[0].hex).toBe(toHex(payload));
    expect(got[0].payload.buffer).toBe(slab.buffer);
  });

  it('pieces in separate buffers are copied into a new one, and binary chunks are left as they were', () => {
    const payload = random.bytes(200_000);
    const frame = wire('server', [Opcode.Binary, payload]);
    const chunks = [frame.slice(0, 1_000), frame.slice(1_000, 100_003), frame.slice(100_003)];
    const before = chunks.map((c) => toHex(c.subarray(0, 64)) + toHex(c.subarray(-64)));
    const { parser: p, got } = parser('server', true);
    for (const c of chunks) p.push(c);
    expect(got[0].hex).toBe(toHex(payload));
    expect(chunks.some((c) => c.buffer === got[0].payload.buffer)).toBe(false);
    expect(chunks.map((c) => toHex(c.subarray(0, 64)) + toHex(c.subarray(-64)))).toEqual(before);
  });

  it('pieces back to back but with a gap are not taken for one view', () => {
    const payload = random.bytes(50_000);
    const frame = wire('server', [Opcode.Binary, payload]);
    const slab = new Uint8Array(frame.length + 1);
    slab.set(frame.subarray(0, 20_000), 0);
    slab.set(frame.subarray(20_000), 20_001); // one octet of gap
    const { parser: p, got } = parser('server', true);
    p.push(slab.subarray(0, 20_000));
    p.push(slab.subarray(20_001));
    expect(got[0].hex).toBe(toHex(payload));
    expect(got[0].payload.buffer).not.toBe(slab.buffer);
  });

  it('without mutableInput, back-to-back pieces are copied and the buffer is not modified', () => {
    const payload = random.bytes(100_000);
    const frame = wire('server', [Opcode.Binary, payload]);
    const { slab, views } = slabViews(frame, [14, 60_000]);
    const copy = slab.slice();
    const { parser: p, got } = parser('server', false);
    for (const v of views) p.push(v);
    expect(got[0].hex).toBe(toHex(payload));
    expect(got[0].payload.buffer).not.toBe(slab.buffer);
    expect(toHex(slab)).toBe(toHex(copy));
  });

  it('frames cut at every kind of place give the same payloads, view or copy', () => {
    const payloads = [random.bytes(70_000), random.bytes(3), random.bytes(20_000)];
    const frames = wire('server', [Opcode.Binary, payloads[0]], [Opcode.Binary, payloads[1]], [Opcode.Text, payloads[2]]);
    for (const cuts of [[1], [2, 3, 4, 5, 6, 7, 8, 9], [14, 70_013], [70_014], [70_015, 70_020, 70_030], [50, 70_100, 90_000]]) {
      // Back to back in one buffer, and in separate buffers.
      for (const together of [true, false]) {
        const chunks = together ? slabViews(frames, cuts).views : slabViews(frames, cuts).views.map((v) => v.slice());
        const { parser: p, got } = parser('server', true, true);
        for (const c of chunks) p.push(c);
        expect(got.map((g) => g.hex), `cuts ${cuts} together ${together}`).toEqual(payloads.map(toHex));
      }
    }
  });
});

/** Collects what a server-role frame writer writes. */
function writes(): { out: { write(b: Uint8Array): void }; list: Uint8Array[] } {
  const list: Uint8Array[] = [];
  return { out: { write: (b) => void list.push(b) }, list };
}

describe('headroom', () => {
  it('a large payload received whole is sent back as one buffer, its header where the old one was', () => {
    const payload = random.bytes(20_000);
    const chunk = wire('server', [Opcode.Binary, payload]); // 2 + 2 + 4 header octets
    const { parser: p, got } = parser('server', true);
    p.push(chunk);
    const received = got[0].payload;
    const w = writes();
    writeFrameTo(w.out, null, true, 0, Opcode.Binary, received);
    expect(w.list).toHaveLength(1);
    expect(w.list[0].buffer).toBe(chunk.buffer);
    expect(w.list[0].byteOffset).toBe(4);
    expect(decodeWritten('server', w.list[0]).map((f) => [f.fin, f.opcode, toHex(f.payload)])).toEqual([[true, Opcode.Binary, toHex(payload)]]);
    // The mark is used once: a second send (another connection) writes its own header.
    const again = writes();
    writeFrameTo(again.out, null, true, 0, Opcode.Binary, received);
    expect(again.list.map((b) => b.length)).toEqual([4, 20_000]);
    expect(toHex(again.list[1])).toBe(toHex(payload));
  });

  it('a split payload delivered as a view keeps the headroom of its header', () => {
    const payload = random.bytes(300_000);
    const frame = wire('server', [Opcode.Binary, payload]);
    const { views } = slabViews(frame, [1_000, 200_000]);
    const { parser: p, got } = parser('server', true);
    for (const v of views) p.push(v);
    const w = writes();
    writeFrameTo(w.out, null, true, 0, Opcode.Binary, got[0].payload);
    expect(w.list).toHaveLength(1);
    expect(toHex(w.list[0].subarray(0, 10))).toBe('82 7f 00 00 00 00 00 04 93 e0');
    expect(toHex(w.list[0].subarray(10))).toBe(toHex(payload));
  });

  it('no headroom for small payloads, copies, headers cut across chunks, or a header alone at the end of a chunk', () => {
    /** The payload a parser delivers for one binary frame of `size` octets fed in `how`. */
    const received = (role: Role, mutableInput: boolean, size: number, how: 'whole' | 'one buffer' | 'separate', cuts: number[] = []): Uint8Array => {
      const frame = wire(role, [Opcode.Binary, random.bytes(size)]);
      const { parser: p, got } = parser(role, mutableInput);
      const chunks = how === 'whole' ? [frame] : how === 'one buffer' ? slabViews(frame, cuts).views : slabViews(frame, cuts).views.map((v) => v.slice());
      for (const c of chunks) p.push(c);
      return got[0].payload;
    };
    const cases: Array<[string, Uint8Array]> = [
      ['under 16 KiB', received('server', true, 16 * 1024 - 1, 'whole')],
      ['without mutableInput', received('server', false, 20_000, 'whole')],
      ['header cut across chunks', received('server', true, 20_000, 'one buffer', [3])],
      ['header alone at the end of a chunk', received('server', true, 20_000, 'one buffer', [8])],
      ['a client (it masks what it sends anyway)', received('client', true, 20_000, 'whole')],
      ['a client, copied from separate reads', received('client', true, 20_000, 'separate', [3_000])],
      // A copy gets no room in front: it gained nothing measurable on Bun and looked slower on Node (writev there).
      ['copied from separate reads', received('server', true, 20_000, 'separate', [3_000])],
      ['under 16 KiB, copied from separate reads', received('server', true, 16 * 1024 - 1, 'separate', [3_000])],
      ['copied from separate reads without mutableInput', received('server', false, 20_000, 'separate', [3_000])],
    ];
    for (const [name, payload] of cases) expect(takeHeadroom(payload), name).toBe(false);
  });

  it('a subarray of a marked payload is not taken for it', () => {
    const payload = random.bytes(40_000);
    const chunk = wire('server', [Opcode.Binary, payload]);
    const { parser: p, got } = parser('server', true);
    p.push(chunk);
    const part = got[0].payload.subarray(10);
    const w = writes();
    writeFrameTo(w.out, null, true, 0, Opcode.Binary, part);
    expect(w.list).toHaveLength(2);
    // The payload itself is intact (nothing was written in front of the subarray).
    expect(toHex(got[0].payload)).toBe(toHex(payload));
  });
});

/** A transport that records each write as the connection made it. */
class RecordingTransport implements ByteTransport {
  writes: Uint8Array[][] = [];
  readonly bufferedAmount = 0;
  write(chunk: Uint8Array): void {
    this.writes.push([chunk.slice()]);
  }
  writev(chunks: Uint8Array[]): void {
    this.writes.push(chunks.map((c) => c.slice()));
  }
  end(): void {}
  destroy(): void {}
  pause(): void {}
  resume(): void {}
}

describe('an echoing server connection', () => {
  for (const mutableInput of [true, false]) {
    it(`echoes large binary messages received whole ${mutableInput ? 'as one buffer each (headroom)' : 'with a header apart (or copied beside it)'}`, () => {
      const transport = new RecordingTransport();
      const conn = new WebSocketConnection(transport, { role: 'server', mutableInput });
      conn.onmessage = (data) => conn.send(data);
      const payloads = [random.bytes(16 * 1024), random.bytes(65_536), random.bytes(100_000)];
      for (const payload of payloads) conn.receive(wire('server', [Opcode.Binary, payload]));
      // Without headroom, a frame up to 64 KiB is copied into one buffer with its header; larger ones go as two.
      expect(transport.writes.map((w) => w.length)).toEqual(mutableInput ? [1, 1, 1] : [1, 2, 2]);
      const echoed = decodeWritten('server', concatList(transport.writes.flat()));
      expect(echoed.map((f) => toHex(f.payload))).toEqual(payloads.map(toHex));
    });
  }
});

describe('a frame sent in tiny pieces costs about what it carries', () => {
  /** Feeds `frame` cut into `step`-octet chunks (separate buffers, or views of one), checking what the parser holds as it goes. */
  function dribble(frame: Uint8Array, step: number, options: { mutableInput: boolean; together?: boolean; partials?: boolean }): { got: Got[]; maxPieces: number; maxRatio: number } {
    const { parser: p, got } = parser('server', options.mutableInput, options.partials ?? false);
    let maxPieces = 0;
    let maxRatio = 0;
    for (let at = 0; at < frame.length; at += step) {
      p.push(options.together ? frame.subarray(at, at + step) : frame.slice(at, at + step));
      const held = p.held;
      maxPieces = Math.max(maxPieces, held.pieces);
      if (at > 64 * 1024) maxRatio = Math.max(maxRatio, held.octets / at);
    }
    return { got, maxPieces, maxRatio };
  }

  it('binary, one octet per read in separate buffers: few pieces held, the copy at most twice what arrived', () => {
    const payload = random.bytes(300_000);
    const r = dribble(wire('server', [Opcode.Binary, payload]), 1, { mutableInput: true });
    expect(r.got.map((g) => g.hex)).toEqual([toHex(payload)]);
    expect(r.maxPieces).toBeLessThanOrEqual(17);
    expect(r.maxRatio).toBeLessThanOrEqual(2.01);
  });

  it('text, 7 octets per read: still validated and reported as it comes, and decoded right', () => {
    const text = 'é€😀 wsflow '.repeat(10_000);
    const payload = new TextEncoder().encode(text);
    const r = dribble(wire('server', [Opcode.Text, payload]), 7, { mutableInput: true, partials: true });
    expect(r.got[0].hex).toBe(toHex(payload));
    // Every read but the last was reported before the frame was whole.
    const reported = r.got[0].partial.reduce((a, b) => a + b, 0);
    expect(reported).toBeGreaterThan(payload.length - 8);
    expect(reported).toBeLessThan(payload.length);
    expect(r.maxPieces).toBeLessThanOrEqual(17);
  });

  it('reads back to back in one buffer merge into one piece, still delivered as a view', () => {
    const payload = random.bytes(100_000);
    const frame = wire('server', [Opcode.Binary, payload]);
    const r = dribble(frame, 3, { mutableInput: true, together: true });
    expect(r.got[0].hex).toBe(toHex(payload));
    expect(r.got[0].payload.buffer).toBe(frame.buffer);
    expect(r.maxPieces).toBe(1);
  });

  it('without mutableInput, a frame over 1 MiB in 100-octet reads is copied into one growing buffer', () => {
    const payload = random.bytes((1 << 20) + 5_000);
    const r = dribble(wire('server', [Opcode.Binary, payload]), 100, { mutableInput: false });
    expect(r.got[0].hex).toBe(toHex(payload));
    expect(r.maxPieces).toBeLessThanOrEqual(17);
    expect(r.maxRatio).toBeLessThanOrEqual(2.01);
  });

  it('large reads stay views; a frame whose reads turn small part way is gathered from there on', () => {
    const payload = random.bytes(200_000);
    const frame = wire('server', [Opcode.Binary, payload]);
    const { parser: p, got } = parser('server', true);
    const chunks = [frame.slice(0, 64 * 1024), frame.slice(64 * 1024, 128 * 1024)];
    for (let at = 128 * 1024; at < frame.length; at += 10) chunks.push(frame.slice(at, at + 10));
    p.push(chunks[0]);
    p.push(chunks[1]);
    expect(p.held).toEqual({ pieces: 2, octets: 128 * 1024 - 14 });
    for (const c of chunks.slice(2)) p.push(c);
    expect(got[0].hex).toBe(toHex(payload));
  });
});
