/**
 * Message reassembly (RFC 6455 §5.4, §5.6, §8.1): the rules that span frames, shared by
 * the sans-I/O {@link WebSocketProtocol} and the {@link MessageDecoderStream}.
 *
 * A data message is one frame with FIN set, or a Text/Binary frame without FIN followed by
 * continuation frames, the last with FIN. The assembler enforces the fragmentation rules,
 * the message limits (`maxMessage`, `maxFragments`) before any payload is buffered, and
 * validates text as UTF-8 as it arrives (fail fast). Control frames may be interleaved in
 * a fragmented message (§5.4); they are checked here but handled by the caller.
 * @module
 */
import { CloseCode, isControlOpcode, Opcode } from './constants.ts';
import { ProtocolError } from './errors.ts';
import { FragmentBytes } from './fragment_bytes.ts';
import type { Limits } from './limits.ts';
import { TextPieces } from './text_pieces.ts';
import { decodeUtf8, Utf8Decoder } from './utf8.ts';

/** RSV1 as it sits in a frame's first octet: "compressed" under permessage-deflate (RFC 7692 §6). */
const RSV1 = 0x40;

/** A reassembled message: text as a string, binary as bytes. */
export type AssembledMessage = string | Uint8Array;

/**
 * Reassembles data messages from frames. Feed every frame's header to
 * {@link MessageAssembler.frameHeader} (control frames too: it checks their RSV bits),
 * then each whole data frame to {@link MessageAssembler.frame}, which returns the message
 * once its last frame arrived. Every violation throws a {@link ProtocolError} carrying its
 * close code: 1002 for fragmentation and RSV errors, 1007 for invalid UTF-8, 1009 for a
 * limit.
 *
 * What a fragmented message holds while it arrives stays proportional to its length,
 * whatever the size of its fragments: small binary fragments are copied into a few growing
 * chunks ({@link FragmentBytes}), decoded text is joined in batches ({@link TextPieces}).
 *
 * @example
 * ```ts
 * const assembler = new MessageAssembler({ maxMessage: 1 << 20, maxFragments: 64 });
 * const hel = new TextEncoder().encode('Hel');
 * const lo = new TextEncoder().encode('lo');
 * assembler.frameHeader(false, 0, Opcode.Text, 3);
 * assembler.frame(false, Opcode.Text, hel, 0);         // undefined: the message goes on
 * assembler.frameHeader(true, 0, Opcode.Continuation, 2);
 * assembler.frame(true, Opcode.Continuation, lo, 0);   // 'Hello' (RFC 6455 §5.7)
 * ```
 */
export class MessageAssembler {
  readonly #maxMessage: number;
  readonly #maxFragments: number;

  /** The opcode of the message being received (Text or Binary), 0 between messages. */
  #opcode = 0;
  #size = 0;
  #frames = 0;
  /** The text of the message so far, decoded; made when a text message first comes in pieces (an idle connection holds none). */
  #textPieces: TextPieces | null = null;
  #textStarted = false;
  /** The octets of a fragmented binary (or compressed) message so far; made on first use. */
  #fragmentBytes: FragmentBytes | null = null;
  readonly #allocate: (size: number) => Uint8Array;
  /** Whether a binary (or compressed) message's first frame was gathered into {@link #bytes}. */
  #gathering = false;
  /** The streaming decoder, created when a text message first arrives in pieces. */
  #utf8: Utf8Decoder | null = null;
  /** Whether the message being received has RSV1 set on its first frame (RFC 7692 §6). */
  #compressed = false;
  /** The opcode of the compressed message {@link frame} returned last, 0 if it was not compressed. */
  #compressedOpcode = 0;

  /**
   * @param limits the resolved `maxMessage` and `maxFragments` (see `resolveLimits`)
   * @param allocate makes the buffers fragments are copied into (every octet is written
   *   before it is read, so it need not zero-fill). Default: `new Uint8Array(size)`.
   */
  constructor(limits: Required<Pick<Limits, 'maxMessage' | 'maxFragments'>>, allocate: (size: number) => Uint8Array = newUint8Array) {
    this.#maxMessage = limits.maxMessage;
    this.#maxFragments = limits.maxFragments;
    this.#allocate = allocate;
  }

  get #text(): TextPieces {
    return (this.#textPieces ??= new TextPieces());
  }

  get #bytes(): FragmentBytes {
    return (this.#fragmentBytes ??= new FragmentBytes(this.#allocate));
  }

  /** Whether a fragmented message has started and not yet ended. */
  get inMessage(): boolean {
    return this.#opcode !== 0;
  }

  /**
   * What the message being received holds so far: separate pieces (buffers, strings) and
   * their octets (text counted at 2 per code unit). @internal (tests bound these)
   */
  get held(): { pieces: number; octets: number } {
    const bytes = this.#fragmentBytes?.held ?? { pieces: 0, octets: 0 };
    const text = this.#textPieces?.held ?? { pieces: 0, octets: 0 };
    return { pieces: bytes.pieces + text.pieces, octets: bytes.octets + text.octets };
  }

  /**
   * Checks a frame header against the message-level rules, before any of its payload is
   * buffered, and counts it toward the message's limits.
   * @param rsv the reserved bits as they sit in the first octet (`0x70` mask)
   * @returns whether this frame's payload should be given to {@link framePartial} as it
   *   arrives: true for uncompressed text, validated as it comes
   * @throws ProtocolError when the frame breaks a fragmentation rule or a limit
   */
  frameHeader(_fin: boolean, rsv: number, opcode: number, length: number): boolean {
    if (isControlOpcode(opcode)) {
      // RSV bits that an extension allows belong to data messages only (RFC 7692 §6.1).
      if (rsv !== 0) throw new ProtocolError('RESERVED_BITS', 'reserved bit set on a control frame');
      return false;
    }
    if (opcode === Opcode.Continuation) {
      // RFC 6455 §5.4: a continuation frame continues a message that was started.
      if (this.#opcode === 0) throw new ProtocolError('UNEXPECTED_CONTINUATION', 'continuation frame with no message started');
      if (rsv !== 0) throw new ProtocolError('RESERVED_BITS', 'reserved bit set on a continuation frame');
      if (++this.#frames > this.#maxFragments) {
        throw new ProtocolError('TOO_MANY_FRAGMENTS', `message split into more than ${this.#maxFragments} frames`, CloseCode.MessageTooBig);
      }
    } else {
      // RFC 6455 §5.4: a new data frame may not interrupt a fragmented message.
      if (this.#opcode !== 0) throw new ProtocolError('EXPECTED_CONTINUATION', 'new data frame inside a fragmented message');
      this.#opcode = opcode;
      this.#frames = 1;
      // RFC 7692 §6: RSV1 on a message's first frame marks it compressed. The frame parser
      // admits RSV1 only when permessage-deflate was negotiated.
      this.#compressed = (rsv & RSV1) !== 0;
    }
    this.#size += length;
    if (this.#size > this.#maxMessage) {
      throw new ProtocolError('MESSAGE_TOO_LARGE', `message exceeds maxMessage ${this.#maxMessage}`, CloseCode.MessageTooBig);
    }
    return this.#opcode === Opcode.Text && !this.#compressed;
  }

  /**
   * Part of the current data frame's payload arrived before the rest: text is validated
   * now (RFC 6455 §8.1, fail fast), so an invalid byte fails the message at once.
   * @throws ProtocolError 1007 on invalid UTF-8
   */
  framePartial(piece: Uint8Array): void {
    // A compressed message is validated once inflated.
    if (this.#opcode === Opcode.Text && !this.#compressed) {
      this.#text.add((this.#utf8 ??= new Utf8Decoder()).decode(piece, false));
      this.#textStarted = true;
    }
  }

  /**
   * A whole data frame (its header already given to {@link frameHeader}).
   * @param payload the unmasked payload; kept (not copied) when it is a whole binary message
   * @param seen how many leading octets of `payload` were already given to {@link framePartial}
   * @returns the complete message after its last frame, else `undefined`
   * @throws ProtocolError 1007 on invalid UTF-8
   */
  frame(fin: boolean, _opcode: number, payload: Uint8Array, seen: number): AssembledMessage | undefined {
    this.#compressedOpcode = 0;
    if (this.#opcode === Opcode.Text && !this.#compressed) {
      if (fin && !this.#textStarted) {
        // The common case: a whole text message in one frame.
        this.#clear();
        return decodeUtf8(payload);
      }
      this.#text.add((this.#utf8 ??= new Utf8Decoder()).decode(seen === 0 ? payload : payload.subarray(seen), fin));
      this.#textStarted = true;
      if (!fin) return undefined;
      const text = this.#text.take();
      this.#clear();
      return text;
    }
    // Binary, or a compressed message of either kind: gathered as bytes.
    if (fin && this.#compressed) this.#compressedOpcode = this.#opcode;
    if (fin && !this.#gathering) {
      this.#clear();
      return payload;
    }
    this.#gathering = true;
    this.#bytes.add(payload, this.#maxMessage - this.#size);
    if (!fin) return undefined;
    const data = this.#bytes.take();
    this.#clear();
    return data.length === 0 ? new Uint8Array(0) : data;
  }

  /**
   * The opcode (Text or Binary) of the message {@link frame} just returned when that
   * message was compressed (RSV1, RFC 7692 §6): the bytes returned are then its compressed
   * payload, to be inflated and, for text, validated. 0 when it was not compressed.
   */
  get compressedOpcode(): number {
    return this.#compressedOpcode;
  }

  /** Drops the message being received, if any (after a Close or a failure). */
  reset(): void {
    // A partial UTF-8 sequence may be pending in the streaming decoder: start afresh.
    if (this.#textStarted) this.#utf8 = null;
    this.#clear();
  }

  /** Ends the current message; the streaming decoder was flushed by its final piece. */
  #clear(): void {
    this.#opcode = 0;
    this.#size = 0;
    this.#frames = 0;
    this.#textPieces?.clear();
    this.#textStarted = false;
    this.#fragmentBytes?.clear();
    this.#gathering = false;
    this.#compressed = false;
  }
}

/** The default allocator: a zero-filled `Uint8Array`. */
const newUint8Array = (size: number): Uint8Array => new Uint8Array(size);
