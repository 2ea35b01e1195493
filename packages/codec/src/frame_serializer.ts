/**
 * Frame serialization (RFC 6455 §5.2): the header, masking for the client role, and a
 * writer that emits finished frames to a byte sink with as few copies as it can.
 * @module
 */
import { isControlOpcode, isKnownOpcode, MAX_CONTROL_PAYLOAD, type Role } from './constants.ts';
import type { Frame } from './frame.ts';
import { defaultMaskKeys, maskInto, type MaskKeySource } from './mask.ts';
import { takeHeadroom } from './headroom.ts';
import { utf8Encoder } from './utf8.ts';

/** The size of a frame header for a payload of `length` octets. */
export function frameHeaderSize(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 0x10000 ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Writes a frame header at `dst[off]` and returns its size. The length uses the minimal
 * encoding (RFC 6455 §5.2). `maskKey` is written when `masked` is true.
 */
export function writeFrameHeader(
  dst: Uint8Array,
  off: number,
  fin: boolean,
  rsv: number,
  opcode: number,
  length: number,
  masked: boolean,
  maskKey: number,
): number {
  dst[off] = (fin ? 0x80 : 0) | (rsv & 0x70) | (opcode & 0x0f);
  const maskBit = masked ? 0x80 : 0;
  let p = off + 2;
  if (length < 126) {
    dst[off + 1] = maskBit | length;
  } else if (length < 0x10000) {
    dst[off + 1] = maskBit | 126;
    dst[p++] = length >>> 8;
    dst[p++] = length & 0xff;
  } else {
    dst[off + 1] = maskBit | 127;
    const hi = Math.floor(length / 0x100000000);
    dst[p++] = hi >>> 24;
    dst[p++] = (hi >>> 16) & 0xff;
    dst[p++] = (hi >>> 8) & 0xff;
    dst[p++] = hi & 0xff;
    dst[p++] = length >>> 24;
    dst[p++] = (length >>> 16) & 0xff;
    dst[p++] = (length >>> 8) & 0xff;
    dst[p++] = length & 0xff;
  }
  if (masked) {
    dst[p++] = maskKey >>> 24;
    dst[p++] = (maskKey >>> 16) & 0xff;
    dst[p++] = (maskKey >>> 8) & 0xff;
    dst[p++] = maskKey & 0xff;
  }
  return p - off;
}

function checkFrame(fin: boolean, opcode: number, length: number): void {
  if (!isKnownOpcode(opcode)) throw new RangeError(`opcode 0x${opcode.toString(16)} is reserved`);
  if (isControlOpcode(opcode)) {
    if (!fin) throw new RangeError('a control frame cannot be fragmented');
    if (length > MAX_CONTROL_PAYLOAD) throw new RangeError('a control frame payload is at most 125 octets');
  }
}

/**
 * Serializes one frame into a single buffer. With `maskKey` the payload is masked
 * (the client role); without it, it is sent as is (the server role).
 * @throws RangeError for a reserved opcode, a fragmented control frame, or a control payload over 125 octets
 *
 * @example
 * ```ts
 * serializeFrame(makeFrame(Opcode.Text, new TextEncoder().encode('Hello')));
 * // 81 05 48 65 6c 6c 6f (RFC 6455 §5.7)
 * ```
 */
export function serializeFrame(frame: Frame, maskKey?: number): Uint8Array {
  const { payload } = frame;
  checkFrame(frame.fin, frame.opcode, payload.length);
  const masked = maskKey !== undefined;
  const rsv = (frame.rsv1 ? 0x40 : 0) | (frame.rsv2 ? 0x20 : 0) | (frame.rsv3 ? 0x10 : 0);
  const out = new Uint8Array(frameHeaderSize(payload.length, masked) + payload.length);
  const h = writeFrameHeader(out, 0, frame.fin, rsv, frame.opcode, payload.length, masked, maskKey ?? 0);
  if (masked) maskInto(payload, out, h, maskKey, 0);
  else out.set(payload, h);
  return out;
}

/** Unmasked payloads at least this large are written after their header, not copied beside it. */
const COPY_MAX = 16 * 1024;

/** Strings whose worst-case UTF-8 fits this are encoded into one shared scratch buffer. */
const SCRATCH_SIZE = 64 * 1024;
let scratch: Uint8Array | undefined;

/** Payloads shorter than this are copied (and masked) byte by byte. */
const SMALL = 64;

/** Where finished frames go: an object whose `write` method (called as a method) takes each buffer, in order. */
export interface FrameSinkOut {
  write(bytes: Uint8Array): void;
}

/** The default allocator of frame buffers. */
const newUint8Array = (size: number): Uint8Array => new Uint8Array(size);

/**
 * Writes one frame to `out`: masked with a fresh key from `keys` (the client role), or,
 * without `keys` (the server role), small frames as one buffer and large ones as a header
 * followed by the caller's payload, uncopied. Frame buffers come from `allocate`, which
 * need not zero them (every byte is written).
 * @throws RangeError for a reserved opcode or a bad control frame
 */
export function writeFrameTo(
  out: FrameSinkOut,
  keys: MaskKeySource | null,
  fin: boolean,
  rsv: number,
  opcode: number,
  payload: Uint8Array,
  allocate: (size: number) => Uint8Array = newUint8Array,
): void {
  const length = payload.length;
  checkFrame(fin, opcode, length);
  if (keys !== null) {
    const key = keys.next();
    const buf = allocate(frameHeaderSize(length, true) + length);
    const h = writeFrameHeader(buf, 0, fin, rsv, opcode, length, true, key);
    maskInto(payload, buf, h, key, 0);
    out.write(buf);
    return;
  }
  if (length >= COPY_MAX) {
    if (takeHeadroom(payload)) {
      // A received payload sent back: its old header's space takes the new header.
      const size = frameHeaderSize(length, false);
      const frame = new Uint8Array(payload.buffer, payload.byteOffset - size, size + length);
      writeFrameHeader(frame, 0, fin, rsv, opcode, length, false, 0);
      out.write(frame);
      return;
    }
    const head = allocate(frameHeaderSize(length, false));
    writeFrameHeader(head, 0, fin, rsv, opcode, length, false, 0);
    out.write(head);
    out.write(payload);
    return;
  }
  const buf = allocate(frameHeaderSize(length, false) + length);
  const h = writeFrameHeader(buf, 0, fin, rsv, opcode, length, false, 0);
  buf.set(payload, h);
  out.write(buf);
}

/**
 * Writes a text frame from a string to `out` (masked when `keys` is given). Strings that
 * fit a shared scratch buffer are encoded into it and copied into an exact-size frame, so
 * a short message costs one small allocation (a fresh small typed array stays on V8's
 * heap; viewing or `subarray`-ing one moves it off, which costs more than the copy).
 */
export function writeTextTo(
  out: FrameSinkOut,
  keys: MaskKeySource | null,
  fin: boolean,
  rsv: number,
  opcode: number,
  text: string,
  allocate: (size: number) => Uint8Array = newUint8Array,
): void {
  // UTF-8 takes at most 3 octets per UTF-16 code unit.
  if (text.length * 3 > SCRATCH_SIZE) {
    writeFrameTo(out, keys, fin, rsv, opcode, utf8Encoder.encode(text), allocate);
    return;
  }
  scratch ??= new Uint8Array(SCRATCH_SIZE);
  const length = utf8Encoder.encodeInto(text, scratch).written;
  const masked = keys !== null;
  const key = masked ? keys.next() : 0;
  const buf = allocate(frameHeaderSize(length, masked) + length);
  const h = writeFrameHeader(buf, 0, fin, rsv, opcode, length, masked, key);
  if (length < SMALL) {
    const src = scratch;
    let k = key;
    for (let i = 0; i < length; i++) {
      buf[h + i] = src[i] ^ (k >>> 24);
      k = ((k << 8) | (k >>> 24)) >>> 0;
    }
  } else if (masked) maskInto(scratch.subarray(0, length), buf, h, key, 0);
  else buf.set(scratch.subarray(0, length), h);
  out.write(buf);
}

/**
 * Writes frames for one end of a connection to a byte sink. The client role masks every
 * frame with a fresh key (RFC 6455 §5.3); the server role writes small frames as one
 * buffer and large ones as a header followed by the caller's payload, uncopied.
 */
export class FrameWriter {
  readonly #out: FrameSinkOut;
  /** The mask-key source in the client role; null in the server role (no masking). */
  readonly #keys: MaskKeySource | null;

  /**
   * @param role which end writes; `'client'` masks
   * @param write receives each finished buffer, in order
   * @param keys where mask keys come from (client role)
   */
  constructor(role: Role, write: (bytes: Uint8Array) => void, keys: MaskKeySource = defaultMaskKeys) {
    this.#out = { write };
    this.#keys = role === 'client' ? keys : null;
  }

  /**
   * Writes one frame. The payload is not modified and, in the server role, a large one
   * is passed on as is: the caller must not change it afterwards.
   * @throws RangeError for a reserved opcode or a bad control frame
   */
  frame(fin: boolean, rsv: number, opcode: number, payload: Uint8Array): void {
    writeFrameTo(this.#out, this.#keys, fin, rsv, opcode, payload);
  }

  /**
   * Writes a text frame from a string. Strings that fit a shared scratch buffer are
   * encoded into it and copied into an exact-size frame, so a short message costs one
   * small allocation (a fresh small typed array stays on V8's heap; viewing or
   * `subarray`-ing one moves it off, which costs more than the copy).
   */
  text(fin: boolean, rsv: number, opcode: number, text: string): void {
    writeTextTo(this.#out, this.#keys, fin, rsv, opcode, text);
  }
}
