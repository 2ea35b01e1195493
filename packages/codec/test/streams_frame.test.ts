// The frame-level WHATWG streams: FrameDecoderStream (bytes -> frames) and
// FrameEncoderStream (frames -> bytes). The RFC 6455 §5.7 examples go through both, in the
// role that receives them and the role that sends them, fed whole, split at every byte
// boundary and cut at random; violations error the stream with a ProtocolError carrying
// its close code; and any frames, encoded then decoded under any chunking, come back as sent.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Opcode, type Role } from '../src/constants.ts';
import { ProtocolError } from '../src/errors.ts';
import { makeFrame, type Frame } from '../src/frame.ts';
import { FrameDecoderStream } from '../src/frame_decoder_stream.ts';
import { FrameEncoderStream } from '../src/frame_encoder_stream.ts';
import type { MaskKeySource } from '../src/mask.ts';
import { concatBytes, hex, splits, toHex } from './helpers.ts';

/** Pipes `chunks` through `stream` and collects what comes out; rejects with the stream's error. */
async function through<I, O>(stream: TransformStream<I, O>, chunks: readonly I[]): Promise<O[]> {
  const source = new ReadableStream<I>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  const reader = source.pipeThrough(stream).getReader();
  const out: O[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return out;
    out.push(value);
  }
}

/** The error `promise` rejects with. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** A frame as comparable plain data (payload in hex). */
function plain(frame: Frame): { fin: boolean; rsv1: boolean; rsv2: boolean; rsv3: boolean; opcode: number; payload: string } {
  return { fin: frame.fin, rsv1: frame.rsv1, rsv2: frame.rsv2, rsv3: frame.rsv3, opcode: frame.opcode, payload: toHex(frame.payload) };
}

const decode = async (role: Role, chunks: readonly Uint8Array[], options: { maxPayload?: number; allowedRsv?: number } = {}) =>
  (await through(new FrameDecoderStream({ role, ...options }), chunks)).map(plain);

const encode = async (role: Role, frames: readonly Frame[], maskKeys?: MaskKeySource) =>
  concatBytes(...(await through(new FrameEncoderStream({ role, maskKeys }), frames)));

/** Always the RFC's example key 37 fa 21 3d. */
const rfcKey: MaskKeySource = { next: () => 0x37fa213d };

/** Cuts `bytes` at the given positions (any order, duplicates and out-of-range ignored). */
function cutAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    out.push(bytes.subarray(at, p));
    at = p;
  }
  out.push(bytes.subarray(at));
  return out;
}

/** Decodes `bytes` whole, split at every boundary and byte by byte; all must agree. */
async function decodeAllWays(role: Role, bytes: Uint8Array, options: { maxPayload?: number; allowedRsv?: number } = {}) {
  const whole = await decode(role, [bytes], options);
  for (const chunks of splits(bytes)) expect(await decode(role, chunks, options)).toEqual(whole);
  return whole;
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const HELLO = toHex(text('Hello'));
const frame = (opcode: number, payload: string, fin = true) => ({ fin, rsv1: false, rsv2: false, rsv3: false, opcode, payload });

// RFC 6455 §5.7, each with the role that receives it.
const EXAMPLES: Array<{ name: string; to: Role; bytes: Uint8Array; frames: ReturnType<typeof frame>[] }> = [
  { name: 'a single-frame unmasked text message', to: 'client', bytes: hex('81 05 48 65 6c 6c 6f'), frames: [frame(Opcode.Text, HELLO)] },
  { name: 'a single-frame masked text message', to: 'server', bytes: hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'), frames: [frame(Opcode.Text, HELLO)] },
  {
    name: 'a fragmented unmasked text message',
    to: 'client',
    bytes: hex('01 03 48 65 6c 80 02 6c 6f'),
    frames: [frame(Opcode.Text, '48 65 6c', false), frame(Opcode.Continuation, '6c 6f')],
  },
  { name: 'an unmasked Ping', to: 'client', bytes: hex('89 05 48 65 6c 6c 6f'), frames: [frame(Opcode.Ping, HELLO)] },
  { name: 'a masked Pong', to: 'server', bytes: hex('8a 85 37 fa 21 3d 7f 9f 4d 51 58'), frames: [frame(Opcode.Pong, HELLO)] },
];

const BIN256 = new Uint8Array(256).map((_, i) => i);
const BIN64K = new Uint8Array(65536).map((_, i) => (i * 7) & 0xff);

describe('FrameDecoderStream: RFC 6455 §5.7 examples', () => {
  for (const example of EXAMPLES) {
    it(`${example.to} decodes ${example.name}, however it is chunked`, async () => {
      expect(await decodeAllWays(example.to, example.bytes)).toEqual(example.frames);
    });

    const other: Role = example.to === 'client' ? 'server' : 'client';
    it(`${other} rejects ${example.name} with 1002 (wrong masking, RFC 6455 §5.1)`, async () => {
      const error = await rejection(decode(other, [example.bytes]));
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toMatchObject({ code: other === 'server' ? 'UNMASKED_FRAME' : 'MASKED_FRAME', closeCode: 1002 });
    });
  }

  it('client decodes 256 bytes of binary data in a single unmasked frame (16-bit length)', async () => {
    const bytes = concatBytes(hex('82 7e 01 00'), BIN256);
    expect(await decodeAllWays('client', bytes)).toEqual([frame(Opcode.Binary, toHex(BIN256))]);
  });

  it('client decodes 64 KiB of binary data in a single unmasked frame (64-bit length)', async () => {
    const bytes = concatBytes(hex('82 7f 00 00 00 00 00 01 00 00'), BIN64K);
    const got = await decode('client', cutAt(bytes, [1, 3, 10, 11, 4096, 65000]));
    expect(got).toEqual([frame(Opcode.Binary, toHex(BIN64K))]);
  });

  it('decodes the examples back to back under random chunking', async () => {
    const toClient = concatBytes(...EXAMPLES.filter((e) => e.to === 'client').map((e) => e.bytes));
    const toServer = concatBytes(...EXAMPLES.filter((e) => e.to === 'server').map((e) => e.bytes));
    const want = (to: Role) => EXAMPLES.filter((e) => e.to === to).flatMap((e) => e.frames);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 12 }), async (cuts) => {
        expect(await decode('client', cutAt(toClient, cuts))).toEqual(want('client'));
        expect(await decode('server', cutAt(toServer, cuts))).toEqual(want('server'));
      }),
      { seed: 6455, numRuns: 200 },
    );
  });

  it('yields the payload of a masked frame unmasked, without modifying the input chunk', async () => {
    const bytes = hex('81 85 37 fa 21 3d 7f 9f 4d 51 58');
    const copy = bytes.slice();
    await decode('server', [bytes]);
    expect(toHex(bytes)).toBe(toHex(copy));
  });

  it('accepts RSV bits that an extension allows and reports them on the frame', async () => {
    const got = await decode('client', [hex('c1 01 61')], { allowedRsv: 0x40 });
    expect(got).toEqual([{ ...frame(Opcode.Text, '61'), rsv1: true }]);
  });
});

describe('FrameDecoderStream: violations error the stream with a ProtocolError and its close code', () => {
  // Unmasked frames as a server would send them; each is checked in the client role.
  const cases: Array<[what: string, bytes: string, code: string, closeCode: number, options?: { maxPayload?: number; allowedRsv?: number }]> = [
    ['reserved opcode 0x3 (RFC 6455 §5.2)', '83 00', 'RESERVED_OPCODE', 1002],
    ['reserved opcode 0xb (RFC 6455 §5.2)', '8b 00', 'RESERVED_OPCODE', 1002],
    ['RSV1 without an extension (RFC 6455 §5.2)', 'c1 01 61', 'RESERVED_BITS', 1002],
    ['RSV2 when only RSV1 is allowed', 'a1 01 61', 'RESERVED_BITS', 1002, { allowedRsv: 0x40 }],
    ['a fragmented Ping (RFC 6455 §5.5)', '09 00', 'FRAGMENTED_CONTROL', 1002],
    ['a Ping of 126 octets (RFC 6455 §5.5)', `89 7e 00 7e ${'00 '.repeat(126)}`, 'CONTROL_TOO_LARGE', 1002],
    ['a 16-bit length under 126 (RFC 6455 §5.2 minimal encoding)', '82 7e 00 05 01 02 03 04 05', 'NON_MINIMAL_LENGTH', 1002],
    ['a 64-bit length under 65536 (RFC 6455 §5.2 minimal encoding)', '82 7f 00 00 00 00 00 00 00 05 01 02 03 04 05', 'NON_MINIMAL_LENGTH', 1002],
    ['a 64-bit length with the top bit set (RFC 6455 §5.2)', '82 7f 80 00 00 00 00 00 00 00', 'LENGTH_TOO_LARGE', 1002],
    ['a payload over maxPayload (RFC 6455 §7.4.1: 1009)', '82 06 01 02 03 04 05 06', 'PAYLOAD_TOO_LARGE', 1009, { maxPayload: 5 }],
    ['bytes ending inside a payload', '81 05 48 65', 'UNEXPECTED_EOF', 1002],
    ['bytes ending inside a header', '81', 'UNEXPECTED_EOF', 1002],
    ['bytes ending inside an extended length', '82 7e 01', 'UNEXPECTED_EOF', 1002],
    ['a valid frame, then one cut short', '81 02 68 69 82 03 01', 'UNEXPECTED_EOF', 1002],
  ];
  for (const [what, bytes, code, closeCode, options] of cases) {
    it(`client fails ${what} with ${closeCode}, however it is chunked`, async () => {
      for (const chunks of splits(hex(bytes))) {
        const error = await rejection(decode('client', chunks, options));
        expect(error).toBeInstanceOf(ProtocolError);
        expect(error).toMatchObject({ code, closeCode });
      }
    });
  }

  it('server fails an unmasked frame with 1002 and a client a masked one (RFC 6455 §5.1)', async () => {
    expect(await rejection(decode('server', [hex('81 02 68 69')]))).toMatchObject({ code: 'UNMASKED_FRAME', closeCode: 1002 });
    expect(await rejection(decode('client', [hex('81 82 00 00 00 00 68 69')]))).toMatchObject({ code: 'MASKED_FRAME', closeCode: 1002 });
  });

  it('errors its readable as soon as the bad header arrives, without waiting for the end', async () => {
    const decoder = new FrameDecoderStream({ role: 'client' });
    const writer = decoder.writable.getWriter();
    const reader = decoder.readable.getReader();
    writer.write(hex('83')).catch(() => {});
    const read = reader.read();
    writer.write(hex('00')).catch(() => {});
    const error = await rejection(read);
    expect(error).toMatchObject({ code: 'RESERVED_OPCODE', closeCode: 1002 });
    // The writable side is errored too, with the same error.
    expect(await rejection(writer.closed)).toBe(error);
  });

  it('refuses bad options and chunks that are not bytes', async () => {
    expect(() => new FrameDecoderStream({ role: 'peer' as Role })).toThrow(TypeError);
    expect(() => new FrameDecoderStream({ role: 'client', maxPayload: 0 })).toThrow(RangeError);
    expect(() => new FrameDecoderStream({ role: 'client', allowedRsv: 0x80 })).toThrow(RangeError);
    const error = await rejection(through(new FrameDecoderStream({ role: 'client' }), ['81 00' as unknown as Uint8Array]));
    expect(error).toBeInstanceOf(TypeError);
  });
});

describe('FrameEncoderStream: RFC 6455 §5.7 examples', () => {
  const hello = text('Hello');

  it('server encodes the examples unmasked, byte for byte', async () => {
    const frames = [
      makeFrame(Opcode.Text, hello),
      makeFrame(Opcode.Text, hello.subarray(0, 3), false),
      makeFrame(Opcode.Continuation, hello.subarray(3)),
      makeFrame(Opcode.Ping, hello),
    ];
    expect(toHex(await encode('server', frames))).toBe('81 05 48 65 6c 6c 6f 01 03 48 65 6c 80 02 6c 6f 89 05 48 65 6c 6c 6f');
    expect(toHex((await encode('server', [makeFrame(Opcode.Binary, BIN256)])).subarray(0, 4))).toBe('82 7e 01 00');
    const big = await encode('server', [makeFrame(Opcode.Binary, BIN64K)]);
    expect(toHex(big.subarray(0, 10))).toBe('82 7f 00 00 00 00 00 01 00 00');
    expect(toHex(big.subarray(10))).toBe(toHex(BIN64K));
  });

  it('client encodes the masked examples with the key 37 fa 21 3d, byte for byte', async () => {
    expect(toHex(await encode('client', [makeFrame(Opcode.Text, hello)], rfcKey))).toBe('81 85 37 fa 21 3d 7f 9f 4d 51 58');
    expect(toHex(await encode('client', [makeFrame(Opcode.Pong, hello)], rfcKey))).toBe('8a 85 37 fa 21 3d 7f 9f 4d 51 58');
  });

  it('client masks every frame with a fresh key (RFC 6455 §5.3)', async () => {
    let next = 0x01020304;
    const keys: MaskKeySource = { next: () => (next = (next + 0x11111111) >>> 0) };
    const bytes = await encode('client', [makeFrame(Opcode.Text, hello), makeFrame(Opcode.Binary, new Uint8Array(3)), makeFrame(Opcode.Ping, new Uint8Array(0))]);
    // Default key source: every frame masked, and it decodes in the server role.
    expect(await decode('server', [bytes])).toEqual([frame(Opcode.Text, HELLO), frame(Opcode.Binary, '00 00 00'), frame(Opcode.Ping, '')]);
    const counted = await encode('client', [makeFrame(Opcode.Binary, new Uint8Array(2)), makeFrame(Opcode.Binary, new Uint8Array(2))], keys);
    // 82 82 <key> <2 octets> twice: the keys are the two the source handed out, in order.
    expect(toHex(counted)).toBe('82 82 12 13 14 15 12 13 82 82 23 24 25 26 23 24');
  });

  it('server passes a large payload on after its header, and the bytes are the same', async () => {
    const encoder = new FrameEncoderStream({ role: 'server' });
    const chunks = await through(encoder, [makeFrame(Opcode.Binary, BIN64K)]);
    expect(chunks.length).toBeGreaterThanOrEqual(1);
    expect(toHex(concatBytes(...chunks).subarray(10, 20))).toBe(toHex(BIN64K.subarray(0, 10)));
  });

  it('keeps the RSV bits of a frame', async () => {
    const f: Frame = { fin: true, rsv1: true, rsv2: false, rsv3: true, opcode: Opcode.Text, payload: text('a') };
    expect(toHex(await encode('server', [f]))).toBe('d1 01 61');
  });
});

describe('FrameEncoderStream: invalid frames error the stream', () => {
  const cases: Array<[what: string, frame: Frame, type: typeof RangeError | typeof TypeError]> = [
    ['a reserved opcode 0x3', makeFrame(0x3, new Uint8Array(0)), RangeError],
    ['a reserved opcode 0xb', makeFrame(0xb, new Uint8Array(0)), RangeError],
    ['an opcode that is not 4 bits', makeFrame(0x10, new Uint8Array(0)), RangeError],
    ['a negative opcode', makeFrame(-1, new Uint8Array(0)), RangeError],
    ['a fragmented Ping', makeFrame(Opcode.Ping, new Uint8Array(0), false), RangeError],
    ['a Close of 126 octets', makeFrame(Opcode.Close, new Uint8Array(126)), RangeError],
    ['a payload that is not a Uint8Array', { ...makeFrame(Opcode.Binary, new Uint8Array(0)), payload: [1, 2] as unknown as Uint8Array }, TypeError],
    ['a fin that is not a boolean', { ...makeFrame(Opcode.Binary, new Uint8Array(0)), fin: 1 as unknown as boolean }, TypeError],
    ['null', null as unknown as Frame, TypeError],
  ];
  for (const role of ['client', 'server'] as const) {
    for (const [what, bad, type] of cases) {
      it(`${role} errors on ${what} with a ${type.name}`, async () => {
        const error = await rejection(encode(role, [makeFrame(Opcode.Text, text('ok')), bad]));
        expect(error).toBeInstanceOf(type);
      });
    }
  }

  it('refuses an unknown role', () => {
    expect(() => new FrameEncoderStream({ role: 'both' as Role })).toThrow(TypeError);
  });
});

describe('FrameEncoderStream -> FrameDecoderStream round trip (property)', () => {
  const lengthArb = fc.oneof(
    { weight: 20, arbitrary: fc.integer({ min: 0, max: 130 }) },
    { weight: 4, arbitrary: fc.integer({ min: 126, max: 2000 }) },
    { weight: 3, arbitrary: fc.constantFrom(0, 125, 126, 127, 65535, 65536) },
    { weight: 1, arbitrary: fc.integer({ min: 65530, max: 70000 }) },
  );
  /** Bytes of a given length from a seed (fast at 70 KB). */
  const bytesArb = fc.tuple(lengthArb, fc.integer()).map(([n, seed]) => {
    const out = new Uint8Array(n);
    let x = seed | 1;
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out[i] = x & 0xff;
    }
    return out;
  });
  const dataArb: fc.Arbitrary<Frame> = fc
    .record({
      fin: fc.boolean(),
      rsv1: fc.boolean(),
      rsv2: fc.boolean(),
      rsv3: fc.boolean(),
      opcode: fc.constantFrom(Opcode.Continuation, Opcode.Text, Opcode.Binary),
      payload: bytesArb,
    });
  const controlArb: fc.Arbitrary<Frame> = fc.record({
    fin: fc.constant(true),
    rsv1: fc.boolean(),
    rsv2: fc.boolean(),
    rsv3: fc.boolean(),
    opcode: fc.constantFrom(Opcode.Close, Opcode.Ping, Opcode.Pong),
    payload: fc.uint8Array({ maxLength: 125 }),
  });
  const framesArb = fc.array(fc.oneof({ weight: 3, arbitrary: dataArb }, { weight: 1, arbitrary: controlArb }), { minLength: 1, maxLength: 6 });
  const cutsArb = fc.array(fc.nat(), { maxLength: 16 });

  for (const role of ['client', 'server'] as const) {
    const peer: Role = role === 'client' ? 'server' : 'client';
    it(`frames a ${role} encodes, a ${peer} decodes identically under any chunking`, async () => {
      await fc.assert(
        fc.asyncProperty(framesArb, cutsArb, async (frames, cuts) => {
          const bytes = await encode(role, frames);
          const chunks = cutAt(bytes, cuts.map((c) => c % (bytes.length + 1)));
          const decoded = await decode(peer, chunks, { allowedRsv: 0x70, maxPayload: Infinity });
          expect(decoded).toEqual(frames.map(plain));
        }),
        { seed: role === 'client' ? 1 : 2, numRuns: 150 },
      );
    });
  }
});
