/**
 * A message framed once, to be sent to many connections (RFC 6455 §5.2, server role): the
 * build-once-send-many half of publish/subscribe. The uncompressed frame is made at once;
 * a compressed frame (RFC 7692 §7.2.1) is made on first need, once per window size, for
 * every connection whose agreement lets it share one (`server_no_context_takeover`).
 * @module
 */
import { bytesOf } from './bytes.ts';
import { Opcode } from './constants.ts';
import { frameHeaderSize, writeFrameHeader } from './frame_serializer.ts';
import { encodeUtf8 } from './utf8.ts';

/** Options of {@link prepareMessage}. */
export interface PrepareOptions {
  /**
   * With permessage-deflate negotiated on a connection: `false` sends the message
   * uncompressed, `true` compresses it whatever its size. Default: compressed from the
   * connection's threshold up (as `send`'s `compress`).
   */
  compress?: boolean;
}

/** RSV1: the message is compressed (RFC 7692 §6). */
const RSV1 = 0x40;

/**
 * One message framed for the server role (unmasked, FIN set, RSV bits clear), with the
 * compressed variants it was asked for. Its buffers are never written again once made:
 * every connection is handed the very same `Uint8Array`.
 *
 * @example
 * ```ts
 * const message = prepareMessage('tick');
 * for (const conn of subscribers) conn.sendPrepared(message); // framed once, written to each
 * message.frame; // 81 04 74 69 63 6b
 * ```
 */
export class PreparedMessage {
  /** Whether it is a binary message (else text). */
  readonly binary: boolean;
  /** The whole frame, uncompressed: header and payload in one buffer. */
  readonly frame: Uint8Array;
  /** The payload (the text's UTF-8 for a text message): a view of {@link frame}. */
  readonly payload: Uint8Array;
  /** The `compress` option it was prepared with. */
  readonly compress: boolean | undefined;
  /** Compressed frames by the window bits they were compressed with (context reset after each message). */
  #compressed: Map<number, Uint8Array> | null = null;
  /** How many compressed frames were made (one per window size asked for). */
  #compressions = 0;

  /** @internal Made by {@link prepareMessage}. */
  constructor(binary: boolean, payload: Uint8Array, compress: boolean | undefined) {
    this.binary = binary;
    this.compress = compress;
    const length = payload.length;
    const frame = new Uint8Array(frameHeaderSize(length, false) + length);
    const at = writeFrameHeader(frame, 0, true, 0, binary ? Opcode.Binary : Opcode.Text, length, false, 0);
    frame.set(payload, at);
    this.frame = frame;
    this.payload = frame.subarray(at);
  }

  /** How many compressed frames were made for it (a test's and a benchmark's count). */
  get compressions(): number {
    return this.#compressions;
  }

  /**
   * The compressed frame for connections that compress with `windowBits` and reset their
   * context after every message: made by `compressor` the first time, the same buffer after.
   * Any such compressor makes a frame any such peer inflates (the stream refers to nothing
   * before the message), so one is made per window size, not per connection. (An object
   * rather than a callback: no closure is made per subscriber.)
   * @throws whatever `compressor.compress` throws
   */
  compressedFrame(windowBits: number, compressor: { compress(payload: Uint8Array): Uint8Array }): Uint8Array {
    const cache = (this.#compressed ??= new Map());
    let frame = cache.get(windowBits);
    if (frame === undefined) {
      const compressed = compressor.compress(this.payload);
      this.#compressions++;
      frame = new Uint8Array(frameHeaderSize(compressed.length, false) + compressed.length);
      const at = writeFrameHeader(frame, 0, true, RSV1, this.binary ? Opcode.Binary : Opcode.Text, compressed.length, false, 0);
      frame.set(compressed, at);
      cache.set(windowBits, frame);
    }
    return frame;
  }
}

/**
 * Frames a message once for sending to many connections with
 * `WebSocketConnection.sendPrepared`: a string as text (its UTF-8, lone surrogates as
 * U+FFFD, as `send` does), anything binary as binary. The bytes are copied: the caller may
 * reuse its buffer at once.
 * @throws TypeError for data that is neither a string, an `ArrayBuffer` nor an `ArrayBufferView`
 * @example
 * ```ts
 * const message = prepareMessage(new Uint8Array([1, 2, 3]), { compress: false });
 * conn.sendPrepared(message);
 * ```
 */
export function prepareMessage(data: string | ArrayBuffer | ArrayBufferView, options: PrepareOptions = {}): PreparedMessage {
  const compress = options.compress;
  if (compress !== undefined && typeof compress !== 'boolean') throw new TypeError('the "compress" option must be a boolean');
  if (typeof data === 'string') return new PreparedMessage(false, encodeUtf8(data), compress);
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return new PreparedMessage(true, bytesOf(data), compress);
  throw new TypeError('a message must be a string, an ArrayBuffer or an ArrayBufferView');
}
