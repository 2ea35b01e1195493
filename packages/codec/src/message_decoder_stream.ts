/**
 * Frames to messages as a WHATWG `TransformStream` (RFC 6455 §5.4–§5.6, §8.1), over the
 * shared {@link MessageAssembler}.
 * @module
 */
import { parseClosePayload, type ClosePayload } from './close_payload.ts';
import { CloseCode, isControlOpcode, isKnownOpcode, MAX_CONTROL_PAYLOAD, Opcode } from './constants.ts';
import { ProtocolError } from './errors.ts';
import type { Frame } from './frame.ts';
import { checkRsvMask } from './frame_decoder_stream.ts';
import { resolveLimits } from './limits.ts';
import { MessageAssembler } from './message_assembler.ts';

/** Options of a {@link MessageDecoderStream}. */
export interface MessageDecoderStreamOptions {
  /** The largest message after reassembly, in octets; a larger one is a 1009. Default 16 MiB. */
  maxMessage?: number;
  /** The most frames one message may be split into; more is a 1009. Default 65536. */
  maxFragments?: number;
  /**
   * RSV bits (as a `0x70` mask) allowed on the first frame of a message, for an extension
   * applied downstream. Default 0. RSV bits are never allowed on continuation or control
   * frames (RFC 7692 §6.1).
   */
  allowedRsv?: number;
}

/** Rechecks what the frame decoder checks, for frames that did not come from one. */
function checkFrame(frame: Frame): void {
  if (typeof frame !== 'object' || frame === null || !(frame.payload instanceof Uint8Array)) {
    throw new TypeError('MessageDecoderStream accepts Frame objects only');
  }
  const { opcode } = frame;
  // RFC 6455 §5.2: reserved opcodes fail the connection.
  if (!Number.isInteger(opcode) || opcode < 0 || opcode > 0xf || !isKnownOpcode(opcode)) {
    throw new ProtocolError('RESERVED_OPCODE', `reserved opcode ${String(opcode)}`);
  }
  if (isControlOpcode(opcode)) {
    // RFC 6455 §5.5: control frames are not fragmented and carry at most 125 octets.
    if (!frame.fin) throw new ProtocolError('FRAGMENTED_CONTROL', 'control frame without FIN');
    if (frame.payload.length > MAX_CONTROL_PAYLOAD) throw new ProtocolError('CONTROL_TOO_LARGE', 'control frame payload over 125 octets');
  }
}

/**
 * Reassembles {@link Frame}s (from a {@link FrameDecoderStream}) into messages: a text
 * message as a `string`, a binary one as a `Uint8Array`.
 *
 * It enforces the rules that span frames: fragmentation (RFC 6455 §5.4), UTF-8 validity
 * of text, checked fragment by fragment so an invalid byte fails at once (§8.1), and the
 * `maxMessage`/`maxFragments` limits, checked before a fragment is kept. A violation
 * errors the stream with a {@link ProtocolError} carrying the close code to fail the
 * connection with: 1002, 1007 for invalid UTF-8, 1009 for a limit.
 *
 * Control frames are not messages: Pings and Pongs are skipped (answering Pings is the
 * connection's job, see {@link WebSocketConnection}), and a Close frame ends the stream
 * (its payload is checked, §5.5.1, and kept in {@link closeReceived}); frames after it
 * are refused. If the input ends inside a fragmented message, the stream errors with
 * `'UNEXPECTED_EOF'` (close code 1002, as 1006 cannot be sent).
 *
 * @example
 * ```ts
 * const messages = socket.readable
 *   .pipeThrough(new FrameDecoderStream({ role: 'client' }))
 *   .pipeThrough(new MessageDecoderStream({ maxMessage: 1 << 20 }));
 * for await (const message of messages) {
 *   console.log(typeof message === 'string' ? `text: ${message}` : `binary: ${message.length} octets`);
 * }
 * ```
 */
export class MessageDecoderStream extends TransformStream<Frame, string | Uint8Array> {
  readonly #assembler: MessageAssembler;
  readonly #allowedRsv: number;
  #closeReceived: ClosePayload | null = null;

  /**
   * @param options the limits, and the RSV bits allowed on a message's first frame
   * @throws RangeError for an invalid limit or RSV mask
   */
  constructor(options: MessageDecoderStreamOptions = {}) {
    const limits = resolveLimits({ maxMessage: options.maxMessage, maxFragments: options.maxFragments });
    const allowedRsv = checkRsvMask(options.allowedRsv ?? 0);
    super({
      transform: (frame, controller) => this.#transform(frame, controller),
      flush: () => this.#flush(),
    });
    this.#assembler = new MessageAssembler(limits);
    this.#allowedRsv = allowedRsv;
  }

  /** The peer's Close (code 1005 when it carried none), once a Close frame ended the stream; else null. */
  get closeReceived(): ClosePayload | null {
    return this.#closeReceived;
  }

  #transform(frame: Frame, controller: TransformStreamDefaultController<string | Uint8Array>): void {
    checkFrame(frame);
    const { fin, opcode, payload } = frame;
    const rsv = (frame.rsv1 ? 0x40 : 0) | (frame.rsv2 ? 0x20 : 0) | (frame.rsv3 ? 0x10 : 0);
    // RFC 6455 §5.2: an RSV bit no extension gave a meaning to fails the connection.
    if ((rsv & ~this.#allowedRsv) !== 0) {
      throw new ProtocolError('RESERVED_BITS', `reserved bits 0x${rsv.toString(16)} set without an extension`);
    }
    this.#assembler.frameHeader(fin, rsv, opcode, payload.length);
    if (isControlOpcode(opcode)) {
      if (opcode === Opcode.Close) {
        // RFC 6455 §5.5.1: the Close frame is the last; a message it cut short is dropped.
        this.#closeReceived = parseClosePayload(payload);
        this.#assembler.reset();
        controller.terminate();
      }
      // Ping and Pong (§5.5.2, §5.5.3) carry no message.
      return;
    }
    const message = this.#assembler.frame(fin, opcode, payload, 0);
    if (message !== undefined) controller.enqueue(message);
  }

  #flush(): void {
    if (this.#assembler.inMessage) {
      this.#assembler.reset();
      throw new ProtocolError('UNEXPECTED_EOF', 'the stream ended inside a fragmented message', CloseCode.ProtocolError);
    }
  }
}
