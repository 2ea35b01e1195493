/**
 * Drives a permessage-deflate inflater (RFC 7692 §7.2.2) with fuzzed messages and compares
 * each decision with `node:zlib` used directly as the reference: the message with
 * `00 00 ff ff` put back, inflated raw in one call, with the last `2 ** windowBits` octets
 * of earlier output as preset dictionary under context takeover.
 *
 * Octet 0: bits 0–2 window bits (8 + n), bit 3 no context takeover, bits 4–5 the output
 * limit (16, 1 KiB, 64 KiB, 1 MiB); octet 1 where the rest is cut into two messages.
 * @module
 */
import { constants, inflateRawSync } from 'node:zlib';
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

/** What the reference makes of one message. */
export type Reference =
  | { kind: 'ok'; output: Uint8Array; atBlockBoundary: boolean }
  | { kind: 'invalid'; reason: string }
  /** A block with BFINAL ended the DEFLATE stream before the message did: not compared. */
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

export function reference(message: Uint8Array, dictionary: Uint8Array, limit: number): Reference {
  const input = join(message, TAIL);
  const options = {
    windowBits: 15,
    finishFlush: constants.Z_SYNC_FLUSH,
    maxOutputLength: limit + 1,
    ...(dictionary.length > 0 ? { dictionary } : {}),
  };
  let result: { buffer: Uint8Array; engine: { bytesWritten: number } };
  try {
    result = inflateRawSync(input, { ...options, info: true }) as unknown as typeof result;
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return { kind: 'ok', output: new Uint8Array(limit + 1), atBlockBoundary: true };
    return { kind: 'invalid', reason: (error as Error).message };
  }
  if (!onlyFlushLeft(input.subarray(result.engine.bytesWritten))) return { kind: 'unknown' };
  // A stream that stands at a block boundary ends cleanly, with nothing more out, when a
  // final empty block follows; one cut inside a block reads those octets as more of it. Two
  // different final blocks (stored, then fixed Huffman) must both end it.
  const atBlockBoundary =
    result.engine.bytesWritten < input.length ||
    FINAL_EMPTY_BLOCKS.every((block) => {
      try {
        const out = inflateRawSync(join(input, block), { ...options, finishFlush: constants.Z_FINISH });
        return hex(out) === hex(result.buffer);
      } catch {
        return false;
      }
    });
  return { kind: 'ok', output: result.buffer, atBlockBoundary };
}

/** How an engine may differ from the reference, by design. */
export interface Leniency {
  /** Rejects a message that does not end at a block boundary (cut inside a block). */
  rejectsCutBlocks: boolean;
  /** With fewer than 15 window bits, may reject a distance beyond the window the reference allows. */
  strictWindow: boolean;
}

export function fuzzInflate(engine: DeflateEngine, leniency: Leniency, data: Uint8Array): void {
  const input = new FuzzInput(data);
  const control = input.byte();
  const cutAt = input.byte();
  const windowBits = 8 + (control & 7);
  const noContextTakeover = (control & 8) !== 0;
  const limit = LIMITS[(control >> 4) & 3];
  const bytes = input.rest();
  const split = Math.floor((bytes.length * cutAt) / 256);
  const messages = [bytes.subarray(0, split), bytes.subarray(split)];

  const inflater = engine.createInflater({ windowBits: Math.min(windowBits, 15), noContextTakeover });
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
    const expected: Reference = message.length === 0 ? { kind: 'ok', output: message, atBlockBoundary: true } : reference(message, noContextTakeover ? new Uint8Array(0) : history, limit);
    const what = `${engine.name}, window ${windowBits}${noContextTakeover ? ', no takeover' : ''}, limit ${limit}, message ${hex(message).slice(0, 200)}`;
    if (expected.kind === 'unknown') return;
    if (expected.kind === 'invalid') {
      check(ours instanceof Error, `${what}: ours inflates what zlib rejects (${expected.reason})`);
      return;
    }
    if (expected.output.length > limit) {
      check(ours instanceof InflateLimitError, `${what}: zlib passes the limit, ours ${ours instanceof Error ? `throws ${ours.message}` : 'returns'}`);
      return;
    }
    if (ours instanceof Error) {
      const excused = (leniency.rejectsCutBlocks && !expected.atBlockBoundary) || (leniency.strictWindow && windowBits < 15);
      check(excused, `${what}: ours rejects what zlib inflates (${ours.message})`);
      return;
    }
    check(hex(ours) === hex(expected.output), `${what}: output differs from zlib's`);
    if (!noContextTakeover) history = join(history, ours).slice(-(2 ** windowBits));
  }
}
