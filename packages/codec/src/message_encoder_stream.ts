/**
 * Messages to frames as a WHATWG `TransformStream` (RFC 6455 §5.4, §5.6), with optional
 * fragmentation.
 * @module
 */
import { bytesOf } from './bytes.ts';
import type { SendData } from './connection.ts';
import { Opcode } from './constants.ts';
import { makeFrame, type Frame } from './frame.ts';
import { encodeUtf8 } from './utf8.ts';

/** Options of a {@link MessageEncoderStream}. */
export interface MessageEncoderStreamOptions {
  /**
   * The largest payload of one frame, in octets: a longer message is split into a first
   * frame and continuation frames (RFC 6455 §5.4). Default `Infinity`: one frame per message.
   */
  fragmentSize?: number;
}

function isBinary(data: unknown): data is ArrayBuffer | ArrayBufferView {
  return data instanceof ArrayBuffer || ArrayBuffer.isView(data);
}

/**
 * Where to end a text fragment that starts at `start` and may hold `size` octets: never
 * inside a UTF-8 sequence (RFC 3629 §3), so that each fragment is whole code points.
 * A code point longer than `size` gets a fragment of its own.
 */
function textCut(bytes: Uint8Array, start: number, size: number): number {
  let cut = start + size;
  if (cut >= bytes.length) return bytes.length;
  // Continuation octets are 10xxxxxx: back up to the lead octet of the sequence at `cut`.
  while (cut > start && (bytes[cut] & 0xc0) === 0x80) cut--;
  if (cut > start) return cut;
  // Not even one code point fits: take the first one whole.
  cut = start + 1;
  while (cut < bytes.length && (bytes[cut] & 0xc0) === 0x80) cut++;
  return cut;
}

/**
 * Turns messages into {@link Frame}s: a string becomes a Text message (UTF-8), an
 * `ArrayBuffer`, any `ArrayBufferView` or a `Blob` a Binary message. With `fragmentSize`,
 * a message longer than that is sent as a fragmented message (RFC 6455 §5.4): a Text or
 * Binary frame without FIN, then continuation frames, the last with FIN. Text is split on
 * code point boundaries, so that every fragment is valid UTF-8 on its own (which peers
 * validating per fragment appreciate); a fragment then holds at most `fragmentSize`
 * octets, or exactly one code point if `fragmentSize` is smaller than it.
 *
 * Binary payloads are views of the data written, not copies: do not modify it afterwards.
 * A `Blob` is read first; later messages wait for it, so order is kept. A value of
 * another type errors the stream with a `TypeError`.
 *
 * @example
 * ```ts
 * const encoder = new MessageEncoderStream({ fragmentSize: 4096 });
 * encoder.readable
 *   .pipeThrough(new FrameEncoderStream({ role: 'client' }))
 *   .pipeTo(socket.writable);
 * const writer = encoder.writable.getWriter();
 * await writer.write('Hello');                  // one Text frame
 * await writer.write(new Uint8Array(10_000));   // Binary 4096 + continuation 4096 + 1808
 * ```
 */
export class MessageEncoderStream extends TransformStream<SendData, Frame> {
  readonly #fragmentSize: number;

  /**
   * @param options the fragment size
   * @throws RangeError when `fragmentSize` is not a positive integer or `Infinity`
   */
  constructor(options: MessageEncoderStreamOptions = {}) {
    const fragmentSize = options.fragmentSize ?? Infinity;
    if (!(fragmentSize === Infinity || (Number.isInteger(fragmentSize) && fragmentSize > 0))) {
      throw new RangeError(`fragmentSize must be a positive integer or Infinity, got ${String(fragmentSize)}`);
    }
    super({ transform: (data, controller) => this.#transform(data, controller) });
    this.#fragmentSize = fragmentSize;
  }

  #transform(data: SendData, controller: TransformStreamDefaultController<Frame>): void | Promise<void> {
    if (typeof data === 'string') {
      this.#emit(Opcode.Text, encodeUtf8(data), controller);
      return;
    }
    if (isBinary(data)) {
      this.#emit(Opcode.Binary, bytesOf(data), controller);
      return;
    }
    if (typeof Blob !== 'undefined' && data instanceof Blob) {
      // The transform's promise holds later messages back until the Blob is read.
      return data.arrayBuffer().then((buffer) => this.#emit(Opcode.Binary, new Uint8Array(buffer), controller));
    }
    throw new TypeError('MessageEncoderStream accepts a string, an ArrayBuffer, an ArrayBufferView or a Blob');
  }

  /** Emits one message as one frame, or fragments of at most `fragmentSize` octets. */
  #emit(opcode: number, payload: Uint8Array, controller: TransformStreamDefaultController<Frame>): void {
    const size = this.#fragmentSize;
    const length = payload.length;
    if (length <= size) {
      controller.enqueue(makeFrame(opcode, payload));
      return;
    }
    let start = 0;
    let first = true;
    while (start < length) {
      const end = opcode === Opcode.Text ? textCut(payload, start, size) : Math.min(start + size, length);
      controller.enqueue(makeFrame(first ? opcode : Opcode.Continuation, payload.subarray(start, end), end === length));
      first = false;
      start = end;
    }
  }
}
