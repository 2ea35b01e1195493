/**
 * Bytes to frames as a WHATWG `TransformStream` (RFC 6455 §5.2), over the incremental
 * {@link FrameParser}.
 * @module
 */
import { CloseCode, type Role } from './constants.ts';
import { bytesOf } from './bytes.ts';
import { ProtocolError } from './errors.ts';
import type { Frame } from './frame.ts';
import { FrameParser } from './frame_parser.ts';
import { resolveLimits } from './limits.ts';

/** Options of a {@link FrameDecoderStream}. */
export interface FrameDecoderStreamOptions {
  /**
   * Which end decodes: `'server'` decodes what a client sends and requires every frame to
   * be masked; `'client'` requires none to be (RFC 6455 §5.1).
   */
  role: Role;
  /** The largest payload of one frame, in octets; a larger one is a 1009. Default 16 MiB. */
  maxPayload?: number;
  /** RSV bits (as a `0x70` mask of the first octet) that a negotiated extension allows. Default 0. */
  allowedRsv?: number;
}

/** @internal Checks a role given by a caller that may not be typed. */
export function checkRole(role: unknown): asserts role is Role {
  if (role !== 'client' && role !== 'server') throw new TypeError(`role must be 'client' or 'server', got ${String(role)}`);
}

/** @internal Checks an RSV mask: only the bits of `0x70` may be set. */
export function checkRsvMask(mask: number): number {
  if (!Number.isInteger(mask) || (mask & ~0x70) !== 0) {
    throw new RangeError(`allowedRsv must be a mask of the bits 0x70, got ${String(mask)}`);
  }
  return mask;
}

/** Views any `ArrayBufferView` as bytes. */
function chunkBytes(chunk: unknown): Uint8Array {
  if (ArrayBuffer.isView(chunk)) return bytesOf(chunk);
  throw new TypeError('FrameDecoderStream accepts Uint8Array chunks only');
}

/**
 * Decodes a byte stream into {@link Frame}s, checking every rule a single frame can break
 * (RFC 6455 §5.1–§5.5): masking for the role, reserved bits and opcodes, minimal lengths,
 * control frame size and fragmentation, and `maxPayload`. Payloads come out unmasked.
 * Chunks may split frames anywhere.
 *
 * It is frame-level only: fragmentation, UTF-8 and message limits span frames and belong
 * to {@link MessageDecoderStream} (or {@link WebSocketProtocol}).
 *
 * A violation errors the stream with the {@link ProtocolError}, whose `closeCode` is the
 * code to fail the connection with (1002 or 1009). When the input ends in the middle of
 * a frame, the stream errors with a `ProtocolError` of code `'UNEXPECTED_EOF'` and close
 * code 1002: the code a WebSocket reports for it, 1006 (RFC 6455 §7.1.5), is reserved and
 * can never be sent in a Close frame (§7.4.1), so the error carries a sendable code.
 *
 * A payload may be a view of an input chunk rather than a copy: do not modify a chunk's
 * memory after writing it.
 *
 * @example
 * ```ts
 * const frames = socket.readable.pipeThrough(new FrameDecoderStream({ role: 'server' }));
 * for await (const frame of frames) {
 *   console.log(frame.opcode, frame.fin, frame.payload);
 * }
 * ```
 */
export class FrameDecoderStream extends TransformStream<Uint8Array, Frame> {
  readonly #parser: FrameParser;
  /** The controller, set while a chunk is being parsed. */
  #out: TransformStreamDefaultController<Frame> | null = null;

  /**
   * @param options the role, and optionally `maxPayload` and `allowedRsv`
   * @throws TypeError for an unknown role, RangeError for an invalid limit or RSV mask
   */
  constructor(options: FrameDecoderStreamOptions) {
    checkRole(options.role);
    const { maxPayload } = resolveLimits({ maxPayload: options.maxPayload });
    const allowedRsv = checkRsvMask(options.allowedRsv ?? 0);
    super({
      transform: (chunk, controller) => this.#transform(chunk, controller),
      flush: () => this.#flush(),
    });
    this.#parser = new FrameParser(
      { role: options.role, maxPayload, allowedRsv },
      {
        frameHeader() {},
        framePartial() {},
        frame: (fin, rsv, opcode, payload) => {
          this.#out!.enqueue({
            fin,
            rsv1: (rsv & 0x40) !== 0,
            rsv2: (rsv & 0x20) !== 0,
            rsv3: (rsv & 0x10) !== 0,
            opcode,
            payload,
          });
        },
      },
    );
  }

  #transform(chunk: Uint8Array, controller: TransformStreamDefaultController<Frame>): void {
    const bytes = chunkBytes(chunk);
    this.#out = controller;
    try {
      // Throws a ProtocolError on a violation, which errors both sides of the stream.
      this.#parser.push(bytes);
    } finally {
      this.#out = null;
    }
  }

  #flush(): void {
    // RFC 6455 §5.2: every frame is whole; bytes cut off mid-frame are a truncated stream.
    if (!this.#parser.atFrameBoundary) {
      this.#parser.halt();
      throw new ProtocolError('UNEXPECTED_EOF', 'the stream ended inside a frame', CloseCode.ProtocolError);
    }
  }
}
