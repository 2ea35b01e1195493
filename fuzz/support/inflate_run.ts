/**
 * Drives a permessage-deflate inflater (RFC 7692 §7.2.2) with fuzzed messages and compares
 * each decision with `node:zlib` used directly as the reference: the message with
 * `00 00 ff ff` put back, inflated raw with the last `2 ** windowBits` octets of earlier
 * output as preset dictionary under context takeover. A message whose DEFLATE stream ends
 * (BFINAL) before the message does goes on with a new stream over the same window (RFC 7692
 * §7.2.3.4), one zlib call per stream.
 *
 * Octet 0: bits 0–2 window bits (8 + n), bit 3 no context takeover, bits 4–5 the output
 * limit (16, 1 KiB, 64 KiB, 1 MiB), bits 6–7 what the rest is: 0 raw DEFLATE data; 1 data
 * that each message is compressed from (sync flush, tail removed, as a peer sends it); 2 the
 * same with each message ended by a final block instead (Z_FINISH, §7.2.3.4); 3 as 1, then
 * one octet of each compressed message flipped. Octet 1: where the rest is cut into two
 * messages.
 * @module
 */
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { type DeflateEngine, InflateLimitError } from '../../packages/codec/src/deflate_engine.ts';
import { FuzzInput } from './input.ts';
import { check, hex } from './oracle.ts';

const LIMITS = [16, 1024, 64 * 1024, 1024 * 1024] as const;
const TAIL = Uint8Array.of(0x00, 0x00, 0xff, 0xff);
/**
 * Empty blocks with BFINAL set, that end a stream standing at a block boundary: a stored one
 * (`01 00 00 ff ff`) and a fixed-Huffman one holding only end-of-block (`03 00`), RFC 1951 §3.2.
 */
const FINAL_EMPTY_BLOCKS = [Uint8Array.of(0x01, 0x00, 0x00, 0xff, 0xff), Uint8Array.of(0x03, 0x00)];
/** More streams in one message than this is not compared (the zlib engine refuses many by design). */
const MAX_STREAMS = 64;

/** What the reference makes of one message. */
export type Reference =
  | { kind: 'ok'; output: Uint8Array; atBlockBoundary: boolean }
  | { kind: 'invalid'; reason: string }
  /** Over the limit (the output is cut there). */
  | { kind: 'too-large' }
  /** Not compared: more streams than {@link MAX_STREAMS}. */
  | { kind: 'unknown' };

function join(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Whether what follows a stream's end is only what is left of the sync flush (RFC 7692 §7.2.3.4). */
function onlyFlushLeft(rest: Uint8Array): boolean {
  return rest.length === 0 || (rest.length === 4 && hex(rest) === '0000ffff') || (rest.length === 5 && hex(rest) === '000000ffff');
}

/** One zlib call: the stream at the start of `input`, with `dictionary` as its window. */
function oneStream(input: Uint8Array, dictionary: Uint8Array, limit: number): { output: Uint8Array; consumed: number } | 'too-large' | { invalid: string } {
  try {
    const result = inflateRawSync(input, {
      windowBits: 15,
      finishFlush: constants.Z_SYNC_FLUSH,
      maxOutputLength: limit + 1,
      info: true,
      ...(dictionary.length > 0 ? { dictionary } : {}),
    }) as unknown as { buffer: Uint8Array; engine: { bytesWritten: number } };
    return result.buffer.length > limit ? 'too-large' : { output: result.buffer, consumed: result.engine.bytesWritten };
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return 'too-large';
    return { invalid: (error as Error).message };
  }
}

/** The reference's verdict on one message, given the window (`2 ** windowBits` octets at most) before it. */
export function reference(message: Uint8Array, window: Uint8Array, windowSize: number, limit: number): Reference {
  let input = join(message, TAIL);
  let dictionary = window;
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let streams = 1; ; streams++) {
    if (streams > MAX_STREAMS) return { kind: 'unknown' };
    const stream = oneStream(input, dictionary, limit - total);
    if (stream === 'too-large') return { kind: 'too-large' };
    if ('invalid' in stream) return { kind: 'invalid', reason: stream.invalid };
    if (stream.consumed === 0) return { kind: 'invalid', reason: 'no progress' };
    parts.push(stream.output);
    total += stream.output.length;
    const rest = input.subarray(stream.consumed);
    if (stream.consumed < input.length && !onlyFlushLeft(rest)) {
      // A final block ended this stream: the next starts over the window as it now stands.
      dictionary = join(dictionary, stream.output).slice(-windowSize);
      input = rest;
      continue;
    }
    const output = join(...parts);
    // The last stream stands at a block boundary if it ended, or if a final empty block put
    // after it ends it with nothing more out (inside a block those octets are read as more of
    // it). Two different final blocks must both do so.
    const atBlockBoundary =
      stream.consumed < input.length ||
      FINAL_EMPTY_BLOCKS.every((block) => {
        try {
          const out = inflateRawSync(join(input, block), {
            windowBits: 15,
            finishFlush: constants.Z_FINISH,
            ...(dictionary.length > 0 ? { dictionary } : {}),
          });
          return hex(out) === hex(stream.output);
        } catch {
          return false;
        }
      });
    return { kind: 'ok', output, atBlockBoundary };
  }
}

/** How an engine may differ from the reference, by design. */
export interface Leniency {
  /** Rejects a message that does not end at a block boundary (cut inside a block). */
  rejectsCutBlocks: boolean;
  /** With fewer than 15 window bits, may reject a distance beyond the window the reference allows. */
  strictWindow: boolean;
}

/** The messages an input stands for (see the module's header). */
function messagesOf(mode: number, bytes: Uint8Array, cutAt: number, windowBits: number): Uint8Array[] {
  const split = Math.floor((bytes.length * cutAt) / 256);
  const plain = [bytes.subarray(0, split), bytes.subarray(split)];
  if (mode === 0) return plain;
  // zlib's raw deflate takes no 8-bit window (Node makes it 9): compress with at least 9.
  const options = { windowBits: Math.max(9, windowBits), finishFlush: mode === 2 ? constants.Z_FINISH : constants.Z_SYNC_FLUSH };
  return plain.map((data, i) => {
    let message: Uint8Array = deflateRawSync(data, options);
    if (mode !== 2 && message.length >= 4 && hex(message.subarray(-4)) === '0000ffff') message = message.subarray(0, -4);
    if (mode === 3 && message.length > 0) {
      message = message.slice();
      const at = (cutAt * 7 + i * 13) % message.length;
      message[at] ^= 1 << ((cutAt + i) & 7);
    }
    return message;
  });
}

export function fuzzInflate(engine: DeflateEngine, leniency: Leniency, data: Uint8Array): void {
  const input = new FuzzInput(data);
  const control = input.byte();
  const cutAt = input.byte();
  const windowBits = 8 + (control & 7);
  const noContextTakeover = (control & 8) !== 0;
  const limit = LIMITS[(control >> 4) & 3];
  const messages = messagesOf(control >> 6, input.rest(), cutAt, windowBits);
  const windowSize = 2 ** windowBits;

  const inflater = engine.createInflater({ windowBits, noContextTakeover });
  let history = new Uint8Array(0);
  for (const message of messages) {
    let ours: Uint8Array | Error;
    try {
      ours = inflater.inflate(message, limit);
      check(ours.length <= limit, `${engine.name}: ${ours.length} octets out past the limit ${limit}`);
    } catch (error) {
      check(error instanceof Error, `${engine.name} threw a non-Error ${String(error)}`);
      ours = error;
    }
    // An empty payload is an empty message for both engines; zlib alone would call it cut short.
    const expected: Reference =
      message.length === 0 ? { kind: 'ok', output: message, atBlockBoundary: true } : reference(message, noContextTakeover ? new Uint8Array(0) : history, windowSize, limit);
    const what = `${engine.name}, window ${windowBits}${noContextTakeover ? ', no takeover' : ''}, limit ${limit}, message ${hex(message).slice(0, 200)}`;
    if (expected.kind === 'unknown') return;
    if (expected.kind === 'invalid') {
      check(ours instanceof Error, `${what}: ours inflates what zlib rejects (${expected.reason})`);
      return;
    }
    if (expected.kind === 'too-large') {
      check(ours instanceof InflateLimitError, `${what}: zlib passes the limit, ours ${ours instanceof Error ? `throws ${ours.message}` : 'returns'}`);
      return;
    }
    if (ours instanceof Error) {
      const excused = (leniency.rejectsCutBlocks && !expected.atBlockBoundary) || (leniency.strictWindow && windowBits < 15);
      check(excused, `${what}: ours rejects what zlib inflates (${ours.message})`);
      return;
    }
    check(hex(ours) === hex(expected.output), `${what}: output differs from zlib's`);
    if (!noContextTakeover) history = join(history, ours).slice(-windowSize);
  }
}
