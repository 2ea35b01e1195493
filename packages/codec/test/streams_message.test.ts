// The message-level WHATWG streams: MessageDecoderStream (frames -> messages, with
// fragmentation, fail-fast UTF-8 and limits) and MessageEncoderStream (messages ->
// frames, with optional fragmentation on code point boundaries), alone and stacked on the
// frame streams.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Opcode } from '../src/constants.ts';
import { ProtocolError } from '../src/errors.ts';
import { makeFrame, type Frame } from '../src/frame.ts';
import { FrameDecoderStream } from '../src/frame_decoder_stream.ts';
import { FrameEncoderStream } from '../src/frame_encoder_stream.ts';
import { MessageDecoderStream, type MessageDecoderStreamOptions } from '../src/message_decoder_stream.ts';
import { MessageEncoderStream } from '../src/message_encoder_stream.ts';
import { isValidUtf8 } from '../src/utf8.ts';
import { concatBytes, hex, toHex } from './helpers.ts';

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

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const f = (opcode: number, payload: Uint8Array | string, fin = true, rsv1 = false): Frame => ({
  ...makeFrame(opcode, typeof payload === 'string' ? utf8(payload) : payload, fin),
  rsv1,
});
/** Messages with binary ones shown as hex, for comparison. */
const shown = (messages: Array<string | Uint8Array>) => messages.map((m) => (typeof m === 'string' ? m : { binary: toHex(m) }));
const decodeMessages = async (frames: Frame[], options?: MessageDecoderStreamOptions) => shown(await through(new MessageDecoderStream(options), frames));

describe('MessageDecoderStream: reassembly (RFC 6455 §5.4)', () => {
  it('delivers single-frame text and binary messages', async () => {
    expect(await decodeMessages([f(Opcode.Text, 'Hello'), f(Opcode.Binary, hex('01 02')), f(Opcode.Text, '')])).toEqual([
      'Hello',
      { binary: '01 02' },
      '',
    ]);
  });

  it('reassembles the fragmented "Hel" + "lo" of RFC 6455 §5.7', async () => {
    expect(await decodeMessages([f(Opcode.Text, 'Hel', false), f(Opcode.Continuation, 'lo')])).toEqual(['Hello']);
  });

  it('reassembles a binary message, empty fragments included', async () => {
    const frames = [f(Opcode.Binary, hex('01'), false), f(Opcode.Continuation, hex(''), false), f(Opcode.Continuation, hex('02 03'))];
    expect(await decodeMessages(frames)).toEqual([{ binary: '01 02 03' }]);
    expect(await decodeMessages([f(Opcode.Binary, '', false), f(Opcode.Continuation, '')])).toEqual([{ binary: '' }]);
  });

  it('skips Pings and Pongs, also between the fragments of a message (RFC 6455 §5.4)', async () => {
    const frames = [f(Opcode.Ping, 'p'), f(Opcode.Text, 'a', false), f(Opcode.Pong, ''), f(Opcode.Ping, 'q'), f(Opcode.Continuation, 'b'), f(Opcode.Pong, 'x')];
    expect(await decodeMessages(frames)).toEqual(['ab']);
  });

  it('accepts a character split across fragments (UTF-8 is checked per message, RFC 6455 §5.6)', async () => {
    // € is e2 82 ac.
    const frames = [f(Opcode.Text, hex('e2'), false), f(Opcode.Continuation, hex('82'), false), f(Opcode.Continuation, hex('ac'))];
    expect(await decodeMessages(frames)).toEqual(['€']);
  });

  it('keeps a leading U+FEFF as content', async () => {
    expect(await decodeMessages([f(Opcode.Text, hex('ef bb bf 61'))])).toEqual(['\ufeffa']);
  });

  it('passes a first frame with an allowed RSV bit on, for an extension downstream', async () => {
    expect(await decodeMessages([f(Opcode.Binary, hex('01'), true, true)], { allowedRsv: 0x40 })).toEqual([{ binary: '01' }]);
  });
});

describe('MessageDecoderStream: a Close frame ends the stream (RFC 6455 §5.5.1)', () => {
  it('ends after the Close, keeps its code and reason, and reads no further frames', async () => {
    const decoder = new MessageDecoderStream();
    let pulled = 0;
    const frames = [f(Opcode.Text, 'one'), f(Opcode.Close, concatBytes(hex('03 e8'), utf8('bye'))), f(Opcode.Text, 'after')];
    const source = new ReadableStream<Frame>({
      pull(controller) {
        if (pulled < frames.length) controller.enqueue(frames[pulled++]);
        else controller.close();
      },
    });
    const out: Array<string | Uint8Array> = [];
    const reader = source.pipeThrough(decoder).getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) out.push(r.value);
    expect(out).toEqual(['one']);
    expect(decoder.closeReceived).toEqual({ code: 1000, reason: 'bye' });
  });

  it('reports 1005 for a Close without a payload, and drops a message the Close cut short', async () => {
    const decoder = new MessageDecoderStream();
    expect(await through(decoder, [f(Opcode.Text, 'cut', false), f(Opcode.Close, '')])).toEqual([]);
    expect(decoder.closeReceived).toEqual({ code: 1005, reason: '' });
  });

  it('is null while no Close arrived', async () => {
    const decoder = new MessageDecoderStream();
    await through(decoder, [f(Opcode.Text, 'x')]);
    expect(decoder.closeReceived).toBeNull();
  });

  const bad: Array<[what: string, payload: string, code: string, closeCode: number]> = [
    ['a 1-byte payload', '03', 'INVALID_CLOSE_PAYLOAD', 1002],
    ['the reserved code 1005', '03 ed', 'INVALID_CLOSE_CODE', 1002],
    ['the code 999', '03 e7', 'INVALID_CLOSE_CODE', 1002],
    ['a reason that is not UTF-8', '03 e8 ff', 'INVALID_UTF8', 1007],
  ];
  for (const [what, payload, code, closeCode] of bad) {
    it(`fails a Close with ${what} with ${closeCode}`, async () => {
      const error = await rejection(through(new MessageDecoderStream(), [f(Opcode.Close, hex(payload))]));
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toMatchObject({ code, closeCode });
    });
  }
});

describe('MessageDecoderStream: violations error the stream with a ProtocolError and its close code', () => {
  const cases: Array<[what: string, frames: Frame[], code: string, closeCode: number, options?: MessageDecoderStreamOptions]> = [
    ['a continuation with no message started', [f(Opcode.Continuation, 'x')], 'UNEXPECTED_CONTINUATION', 1002],
    ['a new text frame inside a fragmented message', [f(Opcode.Text, 'a', false), f(Opcode.Text, 'b')], 'EXPECTED_CONTINUATION', 1002],
    ['a new binary frame inside a fragmented message', [f(Opcode.Binary, 'a', false), f(Opcode.Binary, 'b')], 'EXPECTED_CONTINUATION', 1002],
    ['RSV1 on a message without an extension', [f(Opcode.Text, 'a', true, true)], 'RESERVED_BITS', 1002],
    ['RSV1 on a continuation frame (RFC 7692 §6.1)', [f(Opcode.Text, 'a', false, true), f(Opcode.Continuation, 'b', true, true)], 'RESERVED_BITS', 1002, { allowedRsv: 0x40 }],
    ['RSV1 on a Ping', [f(Opcode.Ping, '', true, true)], 'RESERVED_BITS', 1002, { allowedRsv: 0x40 }],
    ['a reserved opcode', [f(0x3, '')], 'RESERVED_OPCODE', 1002],
    ['a fragmented Ping', [f(Opcode.Ping, '', false)], 'FRAGMENTED_CONTROL', 1002],
    ['a Pong of 126 octets', [f(Opcode.Pong, new Uint8Array(126))], 'CONTROL_TOO_LARGE', 1002],
    ['invalid UTF-8 in a single frame (RFC 6455 §8.1)', [f(Opcode.Text, hex('68 c3 28'))], 'INVALID_UTF8', 1007],
    ['a text message ending inside a character', [f(Opcode.Text, hex('e2 82'), false), f(Opcode.Continuation, '')], 'INVALID_UTF8', 1007],
    ['an encoded surrogate', [f(Opcode.Text, hex('ed a0 80'))], 'INVALID_UTF8', 1007],
    ['a message over maxMessage (RFC 6455 §7.4.1: 1009)', [f(Opcode.Binary, new Uint8Array(6))], 'MESSAGE_TOO_LARGE', 1009, { maxMessage: 5 }],
    [
      'fragments adding up over maxMessage',
      [f(Opcode.Text, 'abc', false), f(Opcode.Continuation, 'def')],
      'MESSAGE_TOO_LARGE',
      1009,
      { maxMessage: 5 },
    ],
    [
      'more fragments than maxFragments',
      [f(Opcode.Binary, 'a', false), f(Opcode.Continuation, 'b', false), f(Opcode.Continuation, 'c')],
      'TOO_MANY_FRAGMENTS',
      1009,
      { maxFragments: 2 },
    ],
    ['input ending inside a fragmented message', [f(Opcode.Text, 'Hel', false)], 'UNEXPECTED_EOF', 1002],
  ];
  for (const [what, frames, code, closeCode, options] of cases) {
    it(`fails ${what} with ${closeCode}`, async () => {
      const error = await rejection(through(new MessageDecoderStream(options), frames));
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toMatchObject({ code, closeCode });
    });
  }

  it('fails fast: an invalid byte in the first fragment errors the stream before the message ends (RFC 6455 §8.1)', async () => {
    const decoder = new MessageDecoderStream();
    const writer = decoder.writable.getWriter();
    const read = decoder.readable.getReader().read();
    writer.write(f(Opcode.Text, hex('61 ff'), false)).catch(() => {});
    const error = await rejection(read);
    expect(error).toMatchObject({ code: 'INVALID_UTF8', closeCode: 1007 });
  });

  it('fails a fragment over maxMessage when it arrives, not at the end of the message', async () => {
    const decoder = new MessageDecoderStream({ maxMessage: 4 });
    const writer = decoder.writable.getWriter();
    const read = decoder.readable.getReader().read();
    writer.write(f(Opcode.Binary, new Uint8Array(3), false)).catch(() => {});
    writer.write(f(Opcode.Continuation, new Uint8Array(3), false)).catch(() => {});
    expect(await rejection(read)).toMatchObject({ code: 'MESSAGE_TOO_LARGE', closeCode: 1009 });
  });

  it('refuses invalid limits and values that are not frames', async () => {
    expect(() => new MessageDecoderStream({ maxMessage: 0 })).toThrow(RangeError);
    expect(() => new MessageDecoderStream({ maxFragments: 1.5 })).toThrow(RangeError);
    expect(() => new MessageDecoderStream({ allowedRsv: 1 })).toThrow(RangeError);
    expect(await rejection(through(new MessageDecoderStream(), [{} as Frame]))).toBeInstanceOf(TypeError);
  });
});

describe('MessageEncoderStream', () => {
  const encodeFrames = async (messages: Array<string | ArrayBuffer | ArrayBufferView | Blob>, fragmentSize?: number) =>
    (await through(new MessageEncoderStream({ fragmentSize }), messages)).map((fr) => ({ fin: fr.fin, opcode: fr.opcode, payload: toHex(fr.payload) }));

  it('sends a string as one Text frame and binary data as one Binary frame', async () => {
    expect(await encodeFrames(['Hello', utf8('Hi')])).toEqual([
      { fin: true, opcode: Opcode.Text, payload: toHex(utf8('Hello')) },
      { fin: true, opcode: Opcode.Binary, payload: '48 69' },
    ]);
  });

  it('accepts an ArrayBuffer and any ArrayBufferView, by their bytes', async () => {
    const buffer = new Uint8Array([1, 2, 3, 4, 5, 6]).buffer;
    const frames = await encodeFrames([buffer, new DataView(buffer, 1, 2), new Uint16Array(buffer, 2, 2), new Uint8Array(buffer, 5)]);
    expect(frames.map((fr) => fr.payload)).toEqual(['01 02 03 04 05 06', '02 03', '03 04 05 06', '06']);
    expect(frames.every((fr) => fr.opcode === Opcode.Binary && fr.fin)).toBe(true);
  });

  it('reads a Blob and keeps the order of the messages around it', async () => {
    const frames = await encodeFrames(['a', new Blob([new Uint8Array([9, 8]), new Uint8Array([7])]), 'b']);
    expect(frames).toEqual([
      { fin: true, opcode: Opcode.Text, payload: '61' },
      { fin: true, opcode: Opcode.Binary, payload: '09 08 07' },
      { fin: true, opcode: Opcode.Text, payload: '62' },
    ]);
  });

  it('sends empty messages as one empty frame', async () => {
    expect(await encodeFrames(['', new Uint8Array(0)], 4)).toEqual([
      { fin: true, opcode: Opcode.Text, payload: '' },
      { fin: true, opcode: Opcode.Binary, payload: '' },
    ]);
  });

  it('splits binary data into fragments of fragmentSize octets (RFC 6455 §5.4)', async () => {
    expect(await encodeFrames([new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])], 4)).toEqual([
      { fin: false, opcode: Opcode.Binary, payload: '01 02 03 04' },
      { fin: false, opcode: Opcode.Continuation, payload: '05 06 07 08' },
      { fin: true, opcode: Opcode.Continuation, payload: '09 0a' },
    ]);
    expect(await encodeFrames([new Uint8Array(4)], 4)).toEqual([{ fin: true, opcode: Opcode.Binary, payload: '00 00 00 00' }]);
  });

  it('splits text on code point boundaries only', async () => {
    // a (1 octet) € (3) b (1) 😀 (4)
    expect(await encodeFrames(['a€b😀'], 3)).toEqual([
      { fin: false, opcode: Opcode.Text, payload: '61' },
      { fin: false, opcode: Opcode.Continuation, payload: 'e2 82 ac' },
      { fin: false, opcode: Opcode.Continuation, payload: '62' },
      { fin: true, opcode: Opcode.Continuation, payload: 'f0 9f 98 80' },
    ]);
  });

  it('gives a code point longer than fragmentSize a fragment of its own', async () => {
    expect(await encodeFrames(['😀é'], 1)).toEqual([
      { fin: false, opcode: Opcode.Text, payload: 'f0 9f 98 80' },
      { fin: true, opcode: Opcode.Continuation, payload: 'c3 a9' },
    ]);
  });

  it('errors on a value that is not a message with a TypeError, and refuses a bad fragmentSize', async () => {
    expect(await rejection(through(new MessageEncoderStream(), [42 as unknown as string]))).toBeInstanceOf(TypeError);
    expect(() => new MessageEncoderStream({ fragmentSize: 0 })).toThrow(RangeError);
    expect(() => new MessageEncoderStream({ fragmentSize: 2.5 })).toThrow(RangeError);
  });

  it('makes fragments that are each valid UTF-8 and within fragmentSize (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 200 }), fc.integer({ min: 1, max: 40 }), async (text, size) => {
        const frames = await through(new MessageEncoderStream({ fragmentSize: size }), [text]);
        for (const fr of frames) {
          expect(isValidUtf8(fr.payload)).toBe(true);
          expect(fr.payload.length).toBeLessThanOrEqual(Math.max(size, 4));
        }
        expect(frames.filter((fr) => fr.fin)).toHaveLength(1);
        expect(frames[frames.length - 1].fin).toBe(true);
        expect(new TextDecoder().decode(concatBytes(...frames.map((fr) => fr.payload)))).toBe(new TextDecoder().decode(utf8(text)));
      }),
      { seed: 8, numRuns: 200 },
    );
  });
});

describe('message streams over the frame streams', () => {
  it('messages a client sends, fragmented and masked, a server gets back in order (property)', async () => {
    const messageArb = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 60 }), fc.uint8Array({ maxLength: 300 }));
    await fc.assert(
      fc.asyncProperty(
        fc.array(messageArb, { minLength: 1, maxLength: 8 }),
        fc.option(fc.integer({ min: 1, max: 64 }), { nil: undefined }),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (messages, fragmentSize, cuts) => {
          const frames = await through(new MessageEncoderStream({ fragmentSize }), messages);
          const bytes = concatBytes(...(await through(new FrameEncoderStream({ role: 'client' }), frames)));
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b);
          const chunks = [0, ...points].map((start, i) => bytes.subarray(start, points[i] ?? bytes.length));
          const source = new ReadableStream<Uint8Array>({
            start(controller) {
              for (const chunk of chunks) controller.enqueue(chunk);
              controller.close();
            },
          });
          const reader = source
            .pipeThrough(new FrameDecoderStream({ role: 'server' }))
            .pipeThrough(new MessageDecoderStream())
            .getReader();
          const got: Array<string | Uint8Array> = [];
          for (let r = await reader.read(); !r.done; r = await reader.read()) got.push(r.value);
          expect(shown(got)).toEqual(shown(messages));
        },
      ),
      { seed: 42, numRuns: 150 },
    );
  });

  it('a violation in the bytes errors the whole pipeline with its close code', async () => {
    // A masked text frame (key 00 00 00 00) whose payload c3 28 is not UTF-8.
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(hex('81 82 00 00 00 00 c3 28'));
        controller.close();
      },
    });
    const reader = source.pipeThrough(new FrameDecoderStream({ role: 'server' })).pipeThrough(new MessageDecoderStream()).getReader();
    expect(await rejection(reader.read())).toMatchObject({ code: 'INVALID_UTF8', closeCode: 1007 });
  });
});
