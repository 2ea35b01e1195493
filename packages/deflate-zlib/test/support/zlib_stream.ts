/**
 * The reference side of interop tests: one long-lived async `node:zlib` stream per
 * direction, flushed with Z_SYNC_FLUSH after every message, the way ws and Chromium
 * compress and decompress permessage-deflate.
 */
import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from 'node:zlib';
import { concat } from './messages.ts';

const TAIL = Uint8Array.of(0x00, 0x00, 0xff, 0xff);

/** Writes `input`, sync-flushes, and resolves with everything the stream emitted for it. */
function flushThrough(stream: DeflateRaw | InflateRaw, input: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    const onData = (chunk: Uint8Array) => chunks.push(chunk);
    const onError = (error: Error) => {
      stream.off('data', onData);
      reject(error);
    };
    stream.on('data', onData);
    stream.once('error', onError);
    stream.write(input);
    stream.flush(constants.Z_SYNC_FLUSH, () => {
      stream.off('data', onData);
      stream.off('error', onError);
      resolve(concat(...chunks));
    });
  });
}

/** A ws-style sender: one zlib deflate stream for a whole connection. */
export class StreamDeflater {
  readonly #stream: DeflateRaw;

  constructor(options: { windowBits: number; level?: number; memLevel?: number }) {
    this.#stream = createDeflateRaw({ level: 6, memLevel: 8, ...options });
  }

  /** One message's payload: its sync-flushed blocks without the trailing `00 00 ff ff`. */
  async deflate(message: Uint8Array): Promise<Uint8Array> {
    const out = await flushThrough(this.#stream, message);
    const n = out.length;
    if (n < 4 || out[n - 4] !== 0 || out[n - 3] !== 0 || out[n - 2] !== 0xff || out[n - 1] !== 0xff) {
      throw new Error('the reference deflater did not end with a sync flush');
    }
    return out.subarray(0, n - 4);
  }

  close(): void {
    this.#stream.close();
  }
}

/** A ws-style receiver: one zlib inflate stream for a whole connection. */
export class StreamInflater {
  readonly #stream: InflateRaw;

  constructor(options: { windowBits: number }) {
    this.#stream = createInflateRaw(options);
    // A failed write also emits 'error'; flushThrough rejects with it.
  }

  inflate(payload: Uint8Array): Promise<Uint8Array> {
    return flushThrough(this.#stream, concat(payload, TAIL));
  }

  close(): void {
    this.#stream.close();
  }
}
