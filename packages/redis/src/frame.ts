/**
 * The message format on a Redis channel: a fixed 18-byte header, then the payload as it
 * is (UTF-8 for text, the bytes themselves for binary: no base64).
 *
 * ```
 * byte 0      format version (1)
 * byte 1      kind: 0 text, 1 binary
 * bytes 2-17  the publishing instance's id (16 random bytes), to drop its own echoes
 * bytes 18-   payload
 * ```
 * @module
 */
import { Buffer } from 'node:buffer';

/** The header fields' sizes and values. */
export const FRAME = {
  VERSION: 1,
  KIND_TEXT: 0,
  KIND_BINARY: 1,
  ID_LENGTH: 16,
  HEADER_LENGTH: 18,
} as const;

/** A decoded frame: who published it and what. */
export interface DecodedFrame {
  /** The publishing instance's id (a view into the frame). */
  readonly instance: Uint8Array;
  /** The payload: a string for text, a `Uint8Array` view for binary. */
  readonly data: string | Uint8Array;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A new random instance id. */
export function newInstanceId(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(FRAME.ID_LENGTH));
}

/**
 * Frames `data` published by `instance` (a `Buffer`, which is what the Redis client sends as bytes).
 * @example
 * ```ts
 * const frame = encodeFrame(newInstanceId(), 'hello');
 * ```
 */
export function encodeFrame(instance: Uint8Array, data: string | Uint8Array): Buffer {
  if (typeof data === 'string') {
    // Room for the worst case (3 bytes a UTF-16 unit), then trimmed to what was written.
    const frame = Buffer.allocUnsafe(FRAME.HEADER_LENGTH + data.length * 3);
    writeHeader(frame, instance, FRAME.KIND_TEXT);
    const { written } = encoder.encodeInto(data, frame.subarray(FRAME.HEADER_LENGTH));
    return frame.subarray(0, FRAME.HEADER_LENGTH + written);
  }
  const frame = Buffer.allocUnsafe(FRAME.HEADER_LENGTH + data.byteLength);
  writeHeader(frame, instance, FRAME.KIND_BINARY);
  frame.set(data, FRAME.HEADER_LENGTH);
  return frame;
}

function writeHeader(frame: Uint8Array, instance: Uint8Array, kind: number): void {
  frame[0] = FRAME.VERSION;
  frame[1] = kind;
  frame.set(instance, 2);
}

/**
 * Reads a frame; `undefined` for bytes that are no frame of this format (another writer
 * on the channel, or a future version).
 */
export function decodeFrame(frame: Uint8Array): DecodedFrame | undefined {
  if (frame.byteLength < FRAME.HEADER_LENGTH || frame[0] !== FRAME.VERSION) return undefined;
  const kind = frame[1];
  const instance = frame.subarray(2, FRAME.HEADER_LENGTH);
  const payload = new Uint8Array(frame.buffer, frame.byteOffset + FRAME.HEADER_LENGTH, frame.byteLength - FRAME.HEADER_LENGTH);
  if (kind === FRAME.KIND_TEXT) return { instance, data: decoder.decode(payload) };
  if (kind === FRAME.KIND_BINARY) return { instance, data: payload };
  return undefined;
}

/** Whether two instance ids are the same. */
export function sameInstance(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
