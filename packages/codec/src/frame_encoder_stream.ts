/**
 * Frames to bytes as a WHATWG `TransformStream` (RFC 6455 §5.2, §5.3), over the
 * {@link FrameWriter}.
 * @module
 */
import type { Role } from './constants.ts';
import type { Frame } from './frame.ts';
import { checkRole } from './frame_decoder_stream.ts';
import { FrameWriter } from './frame_serializer.ts';
import type { MaskKeySource } from './mask.ts';

/** Options of a {@link FrameEncoderStream}. */
export interface FrameEncoderStreamOptions {
  /** Which end encodes: `'client'` masks every frame with a fresh key (RFC 6455 §5.3); `'server'` masks none. */
  role: Role;
  /** Where mask keys come from (client role). Default: `crypto.getRandomValues` in batches. */
  maskKeys?: MaskKeySource;
}

/** Checks the shape of a frame written by a caller that may not be typed. */
function checkShape(frame: Frame): void {
  if (typeof frame !== 'object' || frame === null) throw new TypeError('FrameEncoderStream accepts Frame objects only');
  if (!(frame.payload instanceof Uint8Array)) throw new TypeError('a frame payload must be a Uint8Array');
  if (typeof frame.fin !== 'boolean') throw new TypeError('a frame needs a boolean fin');
  const { opcode } = frame;
  // The opcode is a 4-bit field (RFC 6455 §5.2); which values are reserved is checked by the writer.
  if (!Number.isInteger(opcode) || opcode < 0 || opcode > 0xf) throw new RangeError(`opcode ${String(opcode)} is not a 4-bit value`);
}

/**
 * Encodes {@link Frame}s to bytes, one or two chunks per frame. In the client role every
 * frame is masked with a fresh key (RFC 6455 §5.3); in the server role none is, and a large
 * payload (16 KiB or more) is passed on uncopied after its header: do not modify a
 * payload after writing it.
 *
 * An invalid frame errors the stream: a `RangeError` for a reserved opcode, a fragmented
 * control frame or a control payload over 125 octets (RFC 6455 §5.5), a `TypeError` for a
 * value that is not a frame.
 *
 * @example
 * ```ts
 * const encoder = new FrameEncoderStream({ role: 'client' });
 * encoder.readable.pipeTo(socket.writable);
 * const writer = encoder.writable.getWriter();
 * await writer.write(makeFrame(Opcode.Text, new TextEncoder().encode('Hello')));
 * // 81 85 <4-byte key> <5 masked octets>
 * ```
 */
export class FrameEncoderStream extends TransformStream<Frame, Uint8Array> {
  readonly #writer: FrameWriter;
  /** The controller, set while a frame is being written. */
  #out: TransformStreamDefaultController<Uint8Array> | null = null;

  /**
   * @param options the role, and optionally the mask-key source
   * @throws TypeError for an unknown role
   */
  constructor(options: FrameEncoderStreamOptions) {
    checkRole(options.role);
    super({ transform: (frame, controller) => this.#transform(frame, controller) });
    this.#writer = new FrameWriter(options.role, (bytes) => this.#out!.enqueue(bytes), options.maskKeys);
  }

  #transform(frame: Frame, controller: TransformStreamDefaultController<Uint8Array>): void {
    checkShape(frame);
    const rsv = (frame.rsv1 ? 0x40 : 0) | (frame.rsv2 ? 0x20 : 0) | (frame.rsv3 ? 0x10 : 0);
    this.#out = controller;
    try {
      // Throws a RangeError for a reserved opcode or a bad control frame, erroring the stream.
      this.#writer.frame(frame.fin, rsv, frame.opcode, frame.payload);
    } finally {
      this.#out = null;
    }
  }
}
