/**
 * How much a DEFLATE stream inflates to, found without keeping the output.
 * @module
 */
import { constants, createInflateRaw } from 'node:zlib';

/**
 * The part of a `node:zlib` stream object this uses: the native handle's synchronous
 * `writeSync` and the `[availOut, availIn]` it leaves in `_writeState`. Node's own one-shot
 * functions are built on them; Deno's and Bun's `node:zlib` have them too (checked on Deno
 * 2.9.5 and Bun 1.4.5).
 */
interface ZlibStream {
  _handle?: {
    writeSync?(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  } | null;
  _writeState?: Uint32Array;
  readonly destroyed: boolean;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  close(): void;
}

/** Output goes here and is overwritten: nothing is kept. */
const SCRATCH = new Uint8Array(64 * 1024);

/**
 * How many octets the first DEFLATE stream in `source` inflates to (raw, 32 KiB window,
 * `dictionary` preset when given), counted in one scratch buffer: at most `limit + 1`
 * octets are produced before it stops, and none are kept. So a decompression bomb can be
 * refused having cost time at zlib's speed but no memory for its output.
 * @returns the length, or a number above `limit` once the output passed it; `undefined`
 *   where the runtime's `node:zlib` lacks the handle (the caller then inflates as before)
 * @throws Error when zlib reports the data invalid (some runtimes stop counting instead)
 */
export function inflatedLength(source: Uint8Array, dictionary: Uint8Array | undefined, limit: number): number | undefined {
  const stream = createInflateRaw({ windowBits: 15, ...(dictionary !== undefined ? { dictionary } : {}) }) as unknown as ZlibStream;
  // An invalid stream is reported through 'error' on a later tick too: not an uncaught one.
  stream.on('error', () => {});
  const handle = stream._handle;
  const state = stream._writeState;
  if (typeof handle?.writeSync !== 'function' || !(state instanceof Uint32Array)) {
    stream.close();
    return undefined;
  }
  let inOff = 0;
  let inLen = source.length;
  let total = 0;
  try {
    for (;;) {
      handle.writeSync!(constants.Z_SYNC_FLUSH, source, inOff, inLen, SCRATCH, 0, SCRATCH.length);
      if (stream.destroyed) throw new Error('permessage-deflate: the message is not valid DEFLATE data');
      const availOut = state[0]!;
      const availIn = state[1]!;
      total += SCRATCH.length - availOut;
      if (total > limit) return total;
      inOff += inLen - availIn;
      inLen = availIn;
      // Room left: zlib stopped because the input ran out or the stream ended.
      if (availOut !== 0) return total;
    }
  } finally {
    stream.close();
  }
}
