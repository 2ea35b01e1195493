/**
 * Frame serialization (RFC 6455 §5.2): the header, masking for the client role, and a
 * writer that emits finished frames to a byte sink with as few copies as it can.
 * @module
 */
import { isControlOpcode, isKnownOpcode, MAX_CONTROL_PAYLOAD, type Role } from './constants.ts';
import type { Frame } from './frame.ts';
import { defaultMaskKeys, maskInto, type MaskKeySource } from './mask.ts';
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

/** Above this, a string is encoded on its own first rather than into a worst-case (3x) frame buffer. */
const MASKED_ENCODE_MAX = 1024 * 1024;

/**
 * Writes frames for one end of a connection to a byte sink. The client role masks every
 * frame with a fresh key (RFC 6455 §5.3); the server role writes small frames as one
 * buffer and large ones as a header followed by the caller's payload, uncopied.
 */
export class FrameWriter {
  readonly #write: (bytes: Uint8Array) => void;
  readonly #mask: boolean;
  readonly #keys: MaskKeySource;

  /**
   * @param role which end writes; `'client'` masks
   * @param write receives each finished buffer, in order
   * @param keys where mask keys come from (client role)
   */
  constructor(role: Role, write: (bytes: Uint8Array) => void, keys: MaskKeySource = defaultMaskKeys) {
    this.#write = write;
    this.#mask = role === 'client';
    this.#keys = keys;
  }

  /**
   * Writes one frame. The payload is not modified and, in the server role, a large one
   * is passed on as is: the caller must not change it afterwards.
   * @throws RangeError for a reserved opcode or a bad control frame
   */
  frame(fin: boolean, rsv: number, opcode: number, payload: Uint8Array): void {
    const length = payload.length;
    checkFrame(fin, opcode, length);
    if (this.#mask) {
      const key = this.#keys.next();
      const out = new Uint8Array(frameHeaderSize(length, true) + length);
      const h = writeFrameHeader(out, 0, fin, rsv, opcode, length, true, key);
      maskInto(payload, out, h, key, 0);
      this.#write(out);
      return;
    }
    if (length >= COPY_MAX) {
      const head = new Uint8Array(frameHeaderSize(length, false));
      writeFrameHeader(head, 0, fin, rsv, opcode, length, false, 0);
      this.#write(head);
      this.#write(payload);
      return;
    }
    const out = new Uint8Array(frameHeaderSize(length, false) + length);
    const h = writeFrameHeader(out, 0, fin, rsv, opcode, length, false, 0);
    out.set(payload, h);
    this.#write(out);
  }

  /**
   * Writes a text frame from a string, encoding the UTF-8 straight into the frame
   * buffer when the header size can be known before encoding.
   */
  text(fin: boolean, rsv: number, opcode: number, text: string): void {
    const units = text.length;
    // UTF-8 takes between 1 and 3 octets per UTF-16 code unit.
    const max = units * 3;
    const masked = this.#mask;
    let head = 0;
    if (max < 126) head = 2;
    else if (units >= 126 && max < 0x10000) head = 4;
    else if (units >= 0x10000) head = 10;
    if (head === 0 || max > MASKED_ENCODE_MAX || (!masked && max >= COPY_MAX)) {
      this.frame(fin, rsv, opcode, utf8Encoder.encode(text));
      return;
    }
    if (masked) head += 4;
    const buf = new Uint8Array(head + max);
    const length = utf8Encoder.encodeInto(text, buf.subarray(head)).written;
    const key = masked ? this.#keys.next() : 0;
    writeFrameHeader(buf, 0, fin, rsv, opcode, length, masked, key);
    const out = buf.subarray(0, head + length);
    if (masked) maskInto(out.subarray(head), out, head, key, 0);
    this.#write(out);
  }
}
