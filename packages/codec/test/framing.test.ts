// Framing (RFC 6455 §5.2, §5.3): the 7/16/64-bit payload length and its rules, the
// masking rule and fresh mask keys, maskInto against a naive loop, serializer/parser
// symmetry, and a parser that never assumes a chunk is a frame.
import { describe, expect, it } from 'vitest';
import { Opcode, type Role } from '../src/constants.ts';
import { makeFrame, type Frame } from '../src/frame.ts';
import { ParserState } from '../src/frame_parser.ts';
import { FrameWriter, frameHeaderSize, serializeFrame, writeFrameHeader } from '../src/frame_serializer.ts';
import { maskInto, RandomMaskKeys, type MaskKeySource } from '../src/mask.ts';
import { WebSocketProtocol } from '../src/protocol.ts';
import {
  collectingParser,
  concatBytes,
  cutAt,
  decodeWritten,
  feedAllWays,
  framesWritten,
  hex,
  outcome,
  peerBytes,
  recorder,
  rng,
  ROLES,
  toHex,
  utf8,
} from './helpers.ts';

const peerOf = (role: Role): Role => (role === 'client' ? 'server' : 'client');

/** A payload whose every octet depends on its position, so a shifted or cut payload shows. */
function pattern(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed + (i >> 8)) & 0xff;
  return out;
}

/** Byte equality without building a diff of a 64 KiB array. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * For inputs too large for feedAllWays: feeds whole, cut at each of the first and last 16
 * boundaries (the header and the end of the payload), in 1000- and 4099-byte chunks and byte
 * by byte, and returns the binary messages each way delivered plus what it wrote.
 */
function receiveLargeAllWays(role: Role, bytes: Uint8Array): Array<{ binary: Uint8Array[]; written: number; other: number }> {
  const n = bytes.length;
  const ways: Uint8Array[][] = [[bytes]];
  for (let i = 1; i <= 16; i++) ways.push(cutAt(bytes, [i]), cutAt(bytes, [n - i]));
  for (const size of [1000, 4099]) {
    const cuts: number[] = [];
    for (let c = size; c < n; c += size) cuts.push(c);
    ways.push(cutAt(bytes, cuts));
  }
  ways.push(Array.from({ length: n }, (_, i) => bytes.subarray(i, i + 1)));
  return ways.map((chunks) => {
    const binary: Uint8Array[] = [];
    let written = 0;
    let other = 0;
    const ws = new WebSocketProtocol(
      { role },
      {
        write: (b) => void (written += b.length),
        onBinary: (d) => void binary.push(d.slice()),
        onText: () => void other++,
        onError: () => void other++,
        onClose: () => void other++,
      },
    );
    for (const c of chunks) ws.receiveData(c);
    return { binary, written, other };
  });
}

// The payload lengths at each edge of the three encodings (RFC 6455 §5.2 "Payload length").
const LENGTHS = [
  // 7-bit length, the smallest value: an empty frame
  { length: 0, head: '82 00', masked: '82 80', encoding: '7-bit' },
  // 7-bit length, its largest value
  { length: 125, head: '82 7d', masked: '82 fd', encoding: '7-bit' },
  // 126 in the 7-bit field announces a 16-bit length; 126 is its smallest value
  { length: 126, head: '82 7e 00 7e', masked: '82 fe 00 7e', encoding: '16-bit' },
  // the 16-bit length's largest value
  { length: 65535, head: '82 7e ff ff', masked: '82 fe ff ff', encoding: '16-bit' },
  // 127 announces a 64-bit length; 65536 is its smallest value
  { length: 65536, head: '82 7f 00 00 00 00 00 01 00 00', masked: '82 ff 00 00 00 00 00 01 00 00', encoding: '64-bit' },
] as const;

describe('payload length encodings (RFC 6455 §5.2)', () => {
  for (const role of ROLES) {
    for (const { length, head, encoding } of LENGTHS) {
      it(`${role} decodes a ${length}-byte binary frame with a ${encoding} length`, () => {
        const payload = pattern(length);
        const bytes = peerBytes(role, concatBytes(hex(head), payload));
        if (length <= 512) {
          const r = feedAllWays({ role }, bytes);
          expect(r.events).toEqual([{ type: 'binary', data: toHex(payload) }]);
          expect(r.written).toBe('');
          return;
        }
        const results = receiveLargeAllWays(role, bytes);
        for (const got of results) {
          expect(got.binary).toHaveLength(1);
          expect(sameBytes(got.binary[0], payload)).toBe(true);
          expect(got.written).toBe(0);
          expect(got.other).toBe(0);
        }
      });
    }
  }

  for (const role of ROLES) {
    for (const { length, head, masked, encoding } of LENGTHS) {
      it(`${role} writes a ${length}-byte binary frame with the minimal (${encoding}) length`, () => {
        const run = recorder({ role });
        const payload = pattern(length, 3);
        expect(run.protocol.sendBinary(payload)).toBe(true);
        const bytes = concatBytes(...run.writes);
        // The client sets the mask bit and writes its key (the test key 37 fa 21 3d) after the length.
        const want = role === 'client' ? `${masked} 37 fa 21 3d` : head;
        expect(toHex(bytes.subarray(0, frameHeaderSize(length, role === 'client')))).toBe(want);
        expect(bytes.length).toBe(frameHeaderSize(length, role === 'client') + length);
        const frames = framesWritten(role, run);
        expect(frames).toHaveLength(1);
        expect(frames[0]).toMatchObject({ fin: true, rsv: 0, opcode: Opcode.Binary });
        expect(sameBytes(frames[0].payload, payload)).toBe(true);
      });
    }
  }

  // The text writer sizes its header from the UTF-16 length before encoding; these strings put
  // the UTF-8 length on each side of each encoding's edge with 1-, 2- and 3-octet characters.
  const TEXTS = [
    { text: '', bytes: 0 },
    { text: 'a'.repeat(125), bytes: 125 },
    { text: 'a'.repeat(126), bytes: 126 },
    { text: '\u00e9'.repeat(62) + 'a', bytes: 125 }, // 2-octet é: 63 units, 125 octets
    { text: '\u00e9'.repeat(63), bytes: 126 }, // 63 units, 126 octets
    { text: '\u20ac'.repeat(42), bytes: 126 }, // 3-octet €: 42 units, 126 octets
    { text: '\u20ac'.repeat(126), bytes: 378 }, // 126 units: the writer's in-place 16-bit path
    { text: 'a'.repeat(65535), bytes: 65535 },
    { text: '\u20ac'.repeat(21845), bytes: 65535 }, // 21845 units, the largest 16-bit length
    { text: '\u20ac'.repeat(21845) + 'a', bytes: 65536 }, // one octet more: 64-bit length
    { text: 'a'.repeat(65536), bytes: 65536 }, // 65536 units: the writer's in-place 64-bit path
  ];
  for (const role of ROLES) {
    it(`${role} writes text frames with the minimal length whatever the UTF-8/UTF-16 ratio`, () => {
      for (const { text, bytes } of TEXTS) {
        const run = recorder({ role });
        run.protocol.sendText(text);
        const all = concatBytes(...run.writes);
        const len7 = all[1] & 0x7f;
        expect(len7).toBe(bytes < 126 ? bytes : bytes < 0x10000 ? 126 : 127);
        expect(all.length).toBe(frameHeaderSize(bytes, role === 'client') + bytes);
        const frames = framesWritten(role, run);
        expect(frames).toHaveLength(1);
        expect(frames[0].opcode).toBe(Opcode.Text);
        expect(new TextDecoder().decode(frames[0].payload) === text).toBe(true);
      }
    });
  }
});

// Header vectors that break a length rule; the payload, where given, is what the header
// announces, to show the error comes from the header and not from missing bytes.
const BAD_LENGTHS = [
  // 0 in a 16-bit length: it fits the 7-bit field
  { head: '82 7e 00 00', payload: 0, code: 'NON_MINIMAL_LENGTH' },
  // 125 in a 16-bit length: the largest value that fits the 7-bit field
  { head: '82 7e 00 7d', payload: 125, code: 'NON_MINIMAL_LENGTH' },
  // 0 in a 64-bit length
  { head: '82 7f 00 00 00 00 00 00 00 00', payload: 0, code: 'NON_MINIMAL_LENGTH' },
  // 125 in a 64-bit length: fits 7 bits
  { head: '82 7f 00 00 00 00 00 00 00 7d', payload: 125, code: 'NON_MINIMAL_LENGTH' },
  // 126 in a 64-bit length: fits 16 bits
  { head: '82 7f 00 00 00 00 00 00 00 7e', payload: 126, code: 'NON_MINIMAL_LENGTH' },
  // 65535 in a 64-bit length: the largest value that fits 16 bits (payload left out: header decides)
  { head: '82 7f 00 00 00 00 00 00 ff ff', payload: 0, code: 'NON_MINIMAL_LENGTH' },
  // 64-bit length with only the most significant bit set
  { head: '82 7f 80 00 00 00 00 00 00 00', payload: 0, code: 'LENGTH_TOO_LARGE' },
  // 64-bit length of all ones
  { head: '82 7f ff ff ff ff ff ff ff ff', payload: 0, code: 'LENGTH_TOO_LARGE' },
  // the top bit set on an otherwise minimal 65536: not read as 65536
  { head: '82 7f 80 00 00 00 00 01 00 00', payload: 0, code: 'LENGTH_TOO_LARGE' },
] as const;

describe('payload length rules', () => {
  for (const role of ROLES) {
    for (const { head, payload, code } of BAD_LENGTHS) {
      it(`${role} fails ${head} with 1002 (${code})`, () => {
        const r = feedAllWays({ role }, peerBytes(role, concatBytes(hex(head), pattern(payload))));
        expect(outcome(role, r)).toMatchObject({
          events: [{ type: 'error', code, closeCode: 1002 }],
          close: { code: 1002 },
          state: 'closed',
        });
      });
    }

    it(`${role} reports a length error as soon as the header is complete, before any payload`, () => {
      // 125 in 16 bits, header only (plus, to a server, the mask key)
      const r = feedAllWays({ role }, peerBytes(role, '82 7e 00 7d'));
      expect(r.events).toEqual([{ type: 'error', code: 'NON_MINIMAL_LENGTH', closeCode: 1002 }]);
    });

    it(`${role} fails a legal 64-bit length beyond maxPayload with 1009, not 1002`, () => {
      // 2^63 - 1: the top bit is clear, so the length is legal; it is just too large
      const r = feedAllWays({ role }, peerBytes(role, '82 7f 7f ff ff ff ff ff ff ff'));
      expect(outcome(role, r)).toMatchObject({
        events: [{ type: 'error', code: 'PAYLOAD_TOO_LARGE', closeCode: 1009 }],
        close: { code: 1009 },
      });
    });
  }
});

describe('masking rule (RFC 6455 §5.1, §5.3)', () => {
  // Frames a client sent without masking them.
  const UNMASKED = [
    { hex: '81 05 48 65 6c 6c 6f', what: 'text "Hello"' },
    { hex: '82 00', what: 'an empty binary frame' },
    { hex: '89 00', what: 'an empty ping' },
    { hex: '88 02 03 e8', what: 'a close 1000' },
    { hex: '82 7e 00 80', what: 'a 16-bit length header alone' },
  ];
  for (const { hex: h, what } of UNMASKED) {
    it(`server rejects an unmasked frame with 1002: ${what}`, () => {
      const r = feedAllWays({ role: 'server' }, hex(h));
      expect(outcome('server', r)).toMatchObject({
        events: [{ type: 'error', code: 'UNMASKED_FRAME', closeCode: 1002 }],
        close: { code: 1002 },
        state: 'closed',
      });
    });
  }
  it('server rejects an unmasked frame after its first 2 octets', () => {
    const r = recorder({ role: 'server' });
    r.protocol.receiveData(hex('81 05')); // "Hello" unmasked, cut after the mask bit
    expect(r.events).toEqual([{ type: 'error', code: 'UNMASKED_FRAME', closeCode: 1002 }]);
  });

  // Frames a server sent masked.
  const MASKED = [
    { hex: '81 85 37 fa 21 3d 7f 9f 4d 51 58', what: 'text "Hello" (RFC 6455 §5.7 key)' },
    { hex: '82 80 00 00 00 00', what: 'an empty binary frame with an all-zero key (still masked)' },
    { hex: '89 80 11 22 33 44', what: 'an empty ping' },
    { hex: '88 82 11 22 33 44 12 ca', what: 'a close 1000' },
  ];
  for (const { hex: h, what } of MASKED) {
    it(`client rejects a masked frame with 1002: ${what}`, () => {
      const r = feedAllWays({ role: 'client' }, hex(h));
      expect(outcome('client', r)).toMatchObject({
        events: [{ type: 'error', code: 'MASKED_FRAME', closeCode: 1002 }],
        close: { code: 1002 },
        state: 'closed',
      });
    });
  }
  it('client rejects a masked frame after its first 2 octets', () => {
    const r = recorder({ role: 'client' });
    r.protocol.receiveData(hex('81 85')); // masked "Hello", cut before the key
    expect(r.events).toEqual([{ type: 'error', code: 'MASKED_FRAME', closeCode: 1002 }]);
  });

  const sources: Array<[string, () => MaskKeySource | undefined]> = [
    ['RandomMaskKeys(16), refilled every 16 frames', () => new RandomMaskKeys(16)],
    ['the default key source', () => undefined],
  ];
  for (const [name, source] of sources) {
    it(`client masks every frame it writes with a fresh key (${name})`, () => {
      const writes: Uint8Array[] = [];
      const ws = new WebSocketProtocol({ role: 'client', maskKeys: source() }, { write: (b) => void writes.push(b.slice()) });
      const sent: Array<{ opcode: number; payload: Uint8Array }> = [];
      for (let i = 0; i < 100; i++) {
        const payload = pattern(i % 4 < 2 ? i * 3 : i % 126, i);
        if (i % 4 === 0) {
          const text = 'x'.repeat(i * 3);
          ws.sendText(text);
          sent.push({ opcode: Opcode.Text, payload: utf8(text) });
        } else if (i % 4 === 1) {
          ws.sendBinary(payload);
          sent.push({ opcode: Opcode.Binary, payload });
        } else if (i % 4 === 2) {
          ws.sendPing(payload);
          sent.push({ opcode: Opcode.Ping, payload });
        } else {
          ws.sendPong(payload);
          sent.push({ opcode: Opcode.Pong, payload });
        }
      }
      expect(writes).toHaveLength(100);
      const keys: string[] = [];
      writes.forEach((w, i) => {
        expect(w[1] & 0x80).toBe(0x80); // MASK bit
        const len7 = w[1] & 0x7f;
        const at = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0);
        keys.push(toHex(w.subarray(at, at + 4)));
        // Unmasked with the key it carries, the payload is the original.
        const [frame] = decodeWritten('client', w);
        expect(frame.opcode).toBe(sent[i].opcode);
        expect(toHex(frame.payload)).toBe(toHex(sent[i].payload));
      });
      // 100 random 32-bit keys collide with probability ~1e-6; allow one collision so the test
      // cannot flake, while a source that repeats keys would give far fewer distinct ones.
      expect(new Set(keys).size).toBeGreaterThanOrEqual(99);
    });
  }

  it('server writes no frame masked', () => {
    const run = recorder({ role: 'server' });
    run.protocol.sendText('hi');
    run.protocol.sendBinary(pattern(70000));
    run.protocol.sendPing(pattern(5));
    run.protocol.close(1000);
    // decodeWritten reads a server's output with a client parser, which rejects masked frames.
    expect(framesWritten('server', run).map((f) => f.opcode)).toEqual([Opcode.Text, Opcode.Binary, Opcode.Ping, Opcode.Close]);
    for (const w of run.writes.filter((w) => w.length !== 70000)) expect(w[1] & 0x80).toBe(0);
  });

  it('RandomMaskKeys refills its largest pool (16384 keys = 65536 bytes, the getRandomValues maximum)', () => {
    const keys = new RandomMaskKeys(16384);
    const seen = new Set<number>();
    for (let i = 0; i < 16384 + 100; i++) seen.add(keys.next());
    // 16484 random 32-bit keys: a few collisions at most, never a pool handed out twice.
    expect(seen.size).toBeGreaterThan(16484 - 10);
  });

  it('RandomMaskKeys rejects a batch size outside 1..16384 with RangeError', () => {
    expect(() => new RandomMaskKeys(0)).toThrow(RangeError);
    expect(() => new RandomMaskKeys(16385)).toThrow(RangeError);
    expect(() => new RandomMaskKeys(1.5)).toThrow(RangeError);
    expect(() => new RandomMaskKeys(1)).not.toThrow();
  });
});

/** The definition of masking (RFC 6455 §5.3), one octet at a time: octet i XOR key octet (i + phase) mod 4. */
function naiveMask(src: Uint8Array, key: number, phase: number): Uint8Array {
  const out = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i] ^ ((key >>> (24 - 8 * ((i + phase) & 3))) & 0xff);
  return out;
}

describe('maskInto', () => {
  it('masks the RFC 6455 §5.7 example', () => {
    const out = new Uint8Array(5);
    maskInto(utf8('Hello'), out, 0, 0x37fa213d, 0);
    expect(toHex(out)).toBe('7f 9f 4d 51 58');
  });

  it('equals a naive byte loop for random lengths 0..300, dst offsets, alignments and phases', () => {
    const r = rng(0x6d61736b);
    const failures: string[] = [];
    for (let n = 0; n < 1500; n++) {
      const length = n < 301 ? n : r.int(301);
      const key = (r.next() * 0x100000000) >>> 0;
      const phase = r.int(16);
      const dstOffset = r.int(9);
      // src and dst are views at random byte offsets, so every 4-byte alignment occurs.
      const srcBacking = r.bytes(length + 3);
      const src = srcBacking.subarray(r.int(4), undefined).subarray(0, length);
      const srcBefore = src.slice();
      const dstBacking = r.bytes(dstOffset + length + 8);
      const dst = dstBacking.subarray(r.int(4));
      const dstBefore = dst.slice();
      maskInto(src, dst, dstOffset, key, phase);
      const want = naiveMask(srcBefore, key, phase);
      const got = dst.subarray(dstOffset, dstOffset + length);
      const outsideKept =
        sameBytes(dst.subarray(0, dstOffset), dstBefore.subarray(0, dstOffset)) &&
        sameBytes(dst.subarray(dstOffset + length), dstBefore.subarray(dstOffset + length));
      if (!sameBytes(got, want) || !outsideKept || !sameBytes(src, srcBefore)) {
        failures.push(`length ${length} key ${key.toString(16)} phase ${phase} dstOffset ${dstOffset} dst.byteOffset ${dst.byteOffset}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('equals a naive byte loop in place, through the same view or two views of one buffer', () => {
    const r = rng(0x1a2b);
    const failures: string[] = [];
    for (let n = 0; n < 800; n++) {
      const length = r.int(301);
      const key = (r.next() * 0x100000000) >>> 0;
      const phase = r.int(8);
      const backing = r.bytes(length + 16);
      const at = r.int(8);
      const view = backing.subarray(at, at + length);
      const want = naiveMask(view, key, phase);
      const before = backing.slice();
      if (n % 2 === 0) maskInto(view, view, 0, key, phase);
      else maskInto(view, backing, at, key, phase); // src is dst's own range: in place
      const kept = sameBytes(backing.subarray(0, at), before.subarray(0, at)) && sameBytes(backing.subarray(at + length), before.subarray(at + length));
      if (!sameBytes(view, want) || !kept) failures.push(`length ${length} at ${at} phase ${phase} ${n % 2 ? 'two views' : 'same view'}`);
    }
    expect(failures).toEqual([]);
  });

  it('masks a payload in pieces with phase = octets before the piece exactly as in one go', () => {
    const r = rng(99);
    for (let n = 0; n < 200; n++) {
      const src = r.bytes(r.int(200));
      const key = (r.next() * 0x100000000) >>> 0;
      const whole = new Uint8Array(src.length);
      maskInto(src, whole, 0, key, 0);
      const pieces = new Uint8Array(src.length);
      let at = 0;
      while (at < src.length) {
        const take = Math.min(src.length - at, 1 + r.int(40));
        maskInto(src.subarray(at, at + take), pieces, at, key, at);
        at += take;
      }
      expect(toHex(pieces)).toBe(toHex(whole));
      // Masking is its own inverse.
      maskInto(whole, whole, 0, key, 0);
      expect(toHex(whole)).toBe(toHex(src));
    }
  });
});

describe('serializer/parser symmetry', () => {
  const frames: Frame[] = [];
  for (const opcode of [Opcode.Continuation, Opcode.Text, Opcode.Binary]) {
    for (const fin of [true, false]) {
      for (const rsv of [0, 0x40, 0x20, 0x10, 0x70]) {
        for (const length of [0, 1, 125, 126, 127, 65535, 65536]) {
          if (length > 127 && (rsv !== 0 || opcode !== Opcode.Binary)) continue; // big payloads once per fin
          frames.push({ fin, rsv1: (rsv & 0x40) !== 0, rsv2: (rsv & 0x20) !== 0, rsv3: (rsv & 0x10) !== 0, opcode, payload: pattern(length, opcode + length) });
        }
      }
    }
  }
  for (const opcode of [Opcode.Close, Opcode.Ping, Opcode.Pong]) {
    for (const length of [0, 1, 2, 124, 125]) frames.push(makeFrame(opcode, pattern(length, opcode)));
  }

  for (const writer of ROLES) {
    it(`every frame a ${writer} serializes parses back to itself in the ${peerOf(writer)} role`, () => {
      const masked = writer === 'client';
      for (const [i, frame] of frames.entries()) {
        const key = masked ? (0x9e3779b9 * (i + 1)) >>> 0 : undefined;
        const bytes = serializeFrame(frame, key);
        const length = frame.payload.length;
        expect(bytes.length).toBe(frameHeaderSize(length, masked) + length);
        // writeFrameHeader writes the same header serializeFrame did.
        const head = new Uint8Array(frameHeaderSize(length, masked));
        const rsv = (frame.rsv1 ? 0x40 : 0) | (frame.rsv2 ? 0x20 : 0) | (frame.rsv3 ? 0x10 : 0);
        expect(writeFrameHeader(head, 0, frame.fin, rsv, frame.opcode, length, masked, key ?? 0)).toBe(head.length);
        expect(toHex(head)).toBe(toHex(bytes.subarray(0, head.length)));
        const p = collectingParser(peerOf(writer), { allowedRsv: 0x70 });
        p.parser.push(bytes);
        expect(p.frames).toHaveLength(1);
        const got = p.frames[0];
        expect({ fin: got.fin, rsv: got.rsv, opcode: got.opcode }).toEqual({ fin: frame.fin, rsv, opcode: frame.opcode });
        expect(sameBytes(got.payload, frame.payload)).toBe(true);
        expect(p.headers).toEqual([{ fin: frame.fin, rsv, opcode: frame.opcode, length }]);
      }
    });

    it(`FrameWriter (${writer}) and serializeFrame write the same frames`, () => {
      const out: Uint8Array[] = [];
      const w = new FrameWriter(writer, (b) => void out.push(b.slice()), { next: () => 0x37fa213d });
      for (const frame of frames) {
        out.length = 0;
        const rsv = (frame.rsv1 ? 0x40 : 0) | (frame.rsv2 ? 0x20 : 0) | (frame.rsv3 ? 0x10 : 0);
        w.frame(frame.fin, rsv, frame.opcode, frame.payload);
        expect(sameBytes(concatBytes(...out), serializeFrame(frame, writer === 'client' ? 0x37fa213d : undefined))).toBe(true);
      }
    });
  }

  it('serializeFrame and FrameWriter refuse frames that break the rules with RangeError', () => {
    const w = new FrameWriter('server', () => {});
    const bad: Array<[Frame, string]> = [
      [makeFrame(0x3, new Uint8Array(0)), 'reserved opcode 0x3'],
      [makeFrame(0xb, new Uint8Array(0)), 'reserved opcode 0xB'],
      [makeFrame(Opcode.Ping, new Uint8Array(0), false), 'a ping without FIN'],
      [makeFrame(Opcode.Close, new Uint8Array(0), false), 'a close without FIN'],
      [makeFrame(Opcode.Ping, new Uint8Array(126)), 'a 126-byte ping'],
      [makeFrame(Opcode.Pong, new Uint8Array(126)), 'a 126-byte pong'],
    ];
    for (const [frame] of bad) {
      expect(() => serializeFrame(frame)).toThrow(RangeError);
      expect(() => w.frame(frame.fin, 0, frame.opcode, frame.payload)).toThrow(RangeError);
    }
  });
});

describe('frames larger than the parser preallocates (256 KiB)', () => {
  for (const role of ROLES) {
    it(`${role} reassembles a 300000-byte binary frame and a 270000-byte text frame from uneven chunks`, () => {
      const payload = pattern(300000, 11);
      const text = 'ab\u20ac\u{1f600}'.repeat(30000); // 9 bytes x 30000 = 270000 bytes: 3- and 4-octet characters cut by chunks
      const head = (b0: number, n: number): Uint8Array => new Uint8Array([b0, 127, 0, 0, 0, 0, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
      expect(utf8(text).length).toBe(270000);
      const bytes = peerBytes(role, concatBytes(head(0x82, payload.length), payload, head(0x81, utf8(text).length), utf8(text)));
      for (const size of [1023, 4099, 65537, 262147]) {
        const cuts: number[] = [];
        for (let at = size; at < bytes.length; at += size) cuts.push(at);
        const binary: Uint8Array[] = [];
        const texts: string[] = [];
        const ws = new WebSocketProtocol({ role }, { write() {}, onBinary: (d) => void binary.push(d.slice()), onText: (t) => void texts.push(t) });
        for (const c of cutAt(bytes, cuts)) ws.receiveData(c);
        expect(binary).toHaveLength(1);
        expect(sameBytes(binary[0], payload)).toBe(true);
        expect(texts.length === 1 && texts[0] === text).toBe(true);
        expect(ws.error).toBeNull();
      }
    });
  }
});

describe('FrameParser never assumes a chunk is a frame', () => {
  it('client parser delivers every frame of a chunk holding five, in order', () => {
    const p = collectingParser('client');
    p.parser.push(
      hex(
        '01 03 48 65 6c' + // text "Hel", no FIN
          '89 00' + // empty ping between the fragments
          '80 02 6c 6f' + // continuation "lo", FIN
          '82 02 01 02' + // binary 01 02
          '8a 01 ff', // pong ff
      ),
    );
    expect(p.frames.map((f) => [f.fin, f.opcode, toHex(f.payload)])).toEqual([
      [false, Opcode.Text, '48 65 6c'],
      [true, Opcode.Ping, ''],
      [true, Opcode.Continuation, '6c 6f'],
      [true, Opcode.Binary, '01 02'],
      [true, Opcode.Pong, 'ff'],
    ]);
    expect(p.parser.atFrameBoundary).toBe(true);
  });

  it('server parser delivers a frame spanning 3 chunks only after its last octet', () => {
    const payload = pattern(300);
    const bytes = peerBytes('server', concatBytes(hex('82 7e 01 2c'), payload)); // 300 bytes, 16-bit length, masked
    const p = collectingParser('server');
    // Chunk 1 ends inside the 16-bit length.
    p.parser.push(bytes.subarray(0, 3));
    expect([p.headers.length, p.frames.length, p.parser.state, p.parser.atFrameBoundary]).toEqual([0, 0, ParserState.Header, false]);
    // Chunk 2: the rest of the length, the mask key, and 100 payload octets.
    p.parser.push(bytes.subarray(3, 108));
    expect([p.headers.length, p.frames.length, p.parser.state]).toEqual([1, 0, ParserState.Payload]);
    expect(p.partial).toEqual([100]);
    // Chunk 3: the other 200.
    p.parser.push(bytes.subarray(108));
    expect(p.frames).toHaveLength(1);
    expect(sameBytes(p.frames[0].payload, payload)).toBe(true);
    expect(p.parser.atFrameBoundary).toBe(true);
  });

  it('server parser gathers a header cut inside the mask key', () => {
    const bytes = peerBytes('server', '81 05 48 65 6c 6c 6f'); // 81 85 1a 2b 3c 4d ...
    const p = collectingParser('server');
    p.parser.push(bytes.subarray(0, 4)); // up to the middle of the key
    expect(p.headers).toEqual([]);
    p.parser.push(bytes.subarray(4));
    expect(p.frames.map((f) => toHex(f.payload))).toEqual(['48 65 6c 6c 6f']);
  });

  for (const role of ROLES) {
    it(`${role} parser gives the same frames however a three-frame stream is cut into 3 chunks`, () => {
      const stream = peerBytes(role, concatBytes(hex('02 7e 00 c8'), pattern(200), hex('89 02 01 02'), hex('80 05'), pattern(5)));
      const want = collectingParser(role);
      want.parser.push(stream);
      expect(want.frames.map((f) => f.opcode)).toEqual([Opcode.Binary, Opcode.Ping, Opcode.Continuation]);
      for (let a = 1; a < stream.length; a += 7) {
        for (let b = a; b < stream.length; b += 13) {
          const p = collectingParser(role);
          for (const c of cutAt(stream, [a, b])) p.parser.push(c);
          expect(p.frames).toEqual(want.frames);
        }
      }
    });

    it(`${role} receives text fragments, a ping, binary and a pong from one chunk or cut anywhere`, () => {
      const r = feedAllWays(
        { role },
        peerBytes(
          role,
          '01 03 48 65 6c' + // text "Hel", no FIN
            '89 01 70' + // ping "p" between fragments
            '80 02 6c 6f' + // continuation "lo", FIN
            '82 03 01 02 03' + // binary
            '8a 00', // empty pong
        ),
      );
      expect(r.events).toEqual([
        { type: 'ping', data: '70' },
        { type: 'text', data: 'Hello' },
        { type: 'binary', data: '01 02 03' },
        { type: 'pong', data: '' },
      ]);
      expect(framesWritten(role, r).map((f) => [f.opcode, toHex(f.payload)])).toEqual([[Opcode.Pong, '70']]);
    });
  }
});
