/**
 * The sans-I/O WebSocket connection (RFC 6455 §5–§7): bytes in, events and bytes out.
 *
 * `WebSocketProtocol` is a synchronous state machine for an open connection. Feed it the
 * bytes the transport received with {@link WebSocketProtocol.receiveData}; it calls back
 * with messages, pings, pongs and the peer's Close, and hands every byte that must be
 * sent to `handler.write`. It never touches a socket, a timer or a global beyond the
 * injected mask-key source, so everything it does can be tested with byte vectors.
 * @module
 */
import { closeReasonFor } from './close_reason.ts';
import { parseClosePayload, serializeClosePayload } from './close_payload.ts';
import { CloseCode, isControlOpcode, Opcode, type Role } from './constants.ts';
import { InflateLimitError } from './deflate_engine.ts';
import { ProtocolError } from './errors.ts';
import { FrameParser } from './frame_parser.ts';
import { writeFrameTo, writeTextTo } from './frame_serializer.ts';
import { resolveLimits, type Limits } from './limits.ts';
import { defaultMaskKeys, type MaskKeySource } from './mask.ts';
import { MessageAssembler } from './message_assembler.ts';
import type { PerMessageDeflate } from './per_message_deflate.ts';
import type { PreparedMessage } from './prepared_message.ts';
import { decodeUtf8, encodeUtf8 } from './utf8.ts';

/** Where a connection is in its life (RFC 6455 §4.1, §7). */
export const ProtocolState = {
  /** Messages flow both ways. */
  Open: 'open',
  /** We sent a Close frame and wait for the peer's (RFC 6455 §7.1.2). */
  Closing: 'closing',
  /** The closing handshake is done, or the connection failed or lost its transport: close the transport. */
  Closed: 'closed',
} as const;
/** A {@link ProtocolState} value. */
export type ProtocolState = (typeof ProtocolState)[keyof typeof ProtocolState];

/** What a {@link WebSocketProtocol} reports to. Only `write` is required. */
export interface ProtocolHandler {
  /** Bytes to send to the peer, in order. */
  write(bytes: Uint8Array): void;
  /** A complete text message. */
  onText?(text: string): void;
  /** A complete binary message. The buffer is the handler's to keep. */
  onBinary?(data: Uint8Array): void;
  /** A Ping arrived (the Pong is already written, or held, when `autoPong` is on). */
  onPing?(payload: Uint8Array): void;
  /**
   * Asked before each automatic Pong: whether to hold it back (the peer is not reading what
   * we send). A held Pong is replaced by the next Ping's, so only the most recent unanswered
   * Ping is answered (RFC 6455 §5.5.3), by {@link WebSocketProtocol.sendHeldPong}. Absent:
   * every Pong is written at once.
   */
  holdPong?(): boolean;
  /** A Pong arrived. Unsolicited ones are reported too and otherwise ignored (RFC 6455 §5.5.3). */
  onPong?(payload: Uint8Array): void;
  /** The peer's valid Close frame arrived; `code` is 1005 when it carried none. */
  onClose?(code: number, reason: string): void;
  /** The peer broke the protocol or a limit; a Close with `error.closeCode` was written. */
  onError?(error: ProtocolError): void;
}

/** Options of a {@link WebSocketProtocol}. */
export interface ProtocolOptions extends Limits {
  /** Which end this is: the client masks what it sends and expects nothing masked. */
  role: Role;
  /** Answer each Ping with a Pong carrying the same payload (RFC 6455 §5.5.2). Default true. */
  autoPong?: boolean;
  /** Where mask keys come from (client role). Default: `crypto.getRandomValues` in batches. */
  maskKeys?: MaskKeySource;
  /**
   * The caller hands each chunk given to `receiveData` over to the protocol (and never
   * writes it again), which may then unmask in place in it, deliver payloads as views of
   * it, and write a reply's header in front of a payload sent back (see
   * {@link FrameParserOptions.mutableInput}). Default false.
   */
  mutableInput?: boolean;
  /**
   * Allocates the buffers a split payload is gathered in (see {@link FrameParserOptions.allocate})
   * and those frames are written into; every byte of them is written, so they need not be
   * zero-filled. Default: `new Uint8Array(size)`.
   */
  allocate?: (size: number) => Uint8Array;
  /**
   * permessage-deflate, when the handshake negotiated it (RFC 7692): RSV1 is then allowed
   * on a message's first frame, such messages are inflated (up to `maxMessage` octets, else
   * 1009), and messages sent may be compressed. Default: none.
   */
  perMessageDeflate?: PerMessageDeflate;
}

/** RSV1 as it sits in a frame's first octet (RFC 7692 §6). */
const RSV1 = 0x40;

const EMPTY = new Uint8Array(0);

/**
 * One end of an open WebSocket connection, without I/O.
 *
 * @example
 * ```ts
 * const out: Uint8Array[] = [];
 * const ws = new WebSocketProtocol({ role: 'server' }, {
 *   write: (b) => out.push(b),
 *   onText: (t) => ws.sendText(t), // echo
 * });
 * ws.receiveData(new Uint8Array([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]));
 * // out holds 81 05 48 65 6c 6c 6f: "Hello" echoed
 * ```
 */
export class WebSocketProtocol {
  readonly role: Role;
  readonly #handler: ProtocolHandler;
  readonly #parser: FrameParser;
  /** Mask keys for what we send (client role); null in the server role, which does not mask. */
  readonly #keys: MaskKeySource | null;
  readonly #allocate: ((size: number) => Uint8Array) | undefined;
  readonly #autoPong: boolean;
  /** The message being received: fragmentation rules, limits, UTF-8 (RFC 6455 §5.4, §8.1). */
  readonly #message: MessageAssembler;
  readonly #deflate: PerMessageDeflate | null;
  readonly #maxMessage: number;

  #state: ProtocolState = ProtocolState.Open;
  #closeSent: { code: number; reason: string } | null = null;
  #closeReceived: { code: number; reason: string } | null = null;
  #error: ProtocolError | null = null;

  // The fragmented message being sent: 0 none, else its opcode.
  #sendingOpcode = 0;
  /** The payload of the most recent Ping whose automatic Pong is held back (see {@link ProtocolHandler.holdPong}). */
  #heldPong: Uint8Array | null = null;

  constructor(options: ProtocolOptions, handler: ProtocolHandler) {
    const limits = resolveLimits(options);
    this.role = options.role;
    this.#handler = handler;
    this.#autoPong = options.autoPong ?? true;
    this.#message = new MessageAssembler(limits, options.allocate);
    this.#deflate = options.perMessageDeflate ?? null;
    this.#maxMessage = limits.maxMessage;
    this.#parser = new FrameParser(
      {
        role: options.role,
        maxPayload: limits.maxPayload,
        mutableInput: options.mutableInput,
        allocate: options.allocate,
        allowedRsv: this.#deflate === null ? 0 : RSV1,
      },
      this,
    );
    this.#keys = options.role === 'client' ? (options.maskKeys ?? defaultMaskKeys) : null;
    this.#allocate = options.allocate;
  }

  /** Where the connection is: open, closing (our Close sent) or closed. */
  get state(): ProtocolState {
    return this.#state;
  }

  /** The Close we sent, if any. */
  get closeSent(): { readonly code: number; readonly reason: string } | null {
    return this.#closeSent;
  }

  /** The peer's Close, if one arrived. */
  get closeReceived(): { readonly code: number; readonly reason: string } | null {
    return this.#closeReceived;
  }

  /** The protocol error that failed the connection, if one did. */
  get error(): ProtocolError | null {
    return this.#error;
  }

  /**
   * The close code and reason to report once the transport is closed (RFC 6455 §7.1.5,
   * §7.1.6): the peer's, 1005 if its Close had no code, 1006 if no Close arrived.
   */
  get closeInfo(): { code: number; reason: string; wasClean: boolean } {
    const received = this.#closeReceived;
    if (received !== null) {
      return { code: received.code, reason: received.reason, wasClean: this.#closeSent !== null };
    }
    return { code: CloseCode.Abnormal, reason: '', wasClean: false };
  }

  // ---- receiving -------------------------------------------------------------------

  /**
   * Feeds bytes received from the transport. Handler callbacks run synchronously, in
   * order; bytes to send (Pongs, the Close reply, a failing Close) are written before
   * this returns. A protocol violation does not throw: it fails the connection.
   * Messages may be views of `chunk`: the caller hands the chunk over and must not
   * reuse its memory (socket reads in Node, Deno and Bun each give a fresh buffer).
   * @throws whatever a handler callback throws, after failing the connection with 1011
   */
  receiveData(chunk: Uint8Array): void {
    if (this.#closeReceived !== null || this.#error !== null) return;
    try {
      this.#parser.push(chunk);
    } catch (error) {
      if (error instanceof ProtocolError) {
        this.fail(error);
        return;
      }
      this.fail(new ProtocolError('INTERNAL_ERROR', 'internal error', CloseCode.InternalError));
      throw error;
    }
  }

  /**
   * Tells the connection its transport ended (the peer closed TCP). Without a Close
   * from the peer this is an abnormal closure, 1006 (RFC 6455 §7.1.5).
   */
  receiveEof(): void {
    this.#parser.halt();
    this.#state = ProtocolState.Closed;
    this.#deflate?.dispose();
  }

  // The three FrameSink methods (checked structurally by `new FrameParser(…, this)`) are
  // internal, so the class's public declaration does not say it implements FrameSink.

  /** @internal FrameSink: checks message-level rules before any payload is buffered. */
  frameHeader(fin: boolean, rsv: number, opcode: number, length: number): boolean {
    return this.#message.frameHeader(fin, rsv, opcode, length);
  }

  /** @internal FrameSink: validates text as it arrives (RFC 6455 §8.1, fail fast). */
  framePartial(piece: Uint8Array): void {
    this.#message.framePartial(piece);
  }

  /** @internal FrameSink: a whole frame. */
  frame(fin: boolean, _rsv: number, opcode: number, payload: Uint8Array, seen: number): void {
    if (isControlOpcode(opcode)) {
      this.#control(opcode, payload);
      return;
    }
    const message = this.#message.frame(fin, opcode, payload, seen);
    if (message === undefined) return;
    const compressed = this.#message.compressedOpcode;
    if (compressed !== 0) {
      this.#inflated(compressed, message as Uint8Array);
      return;
    }
    if (typeof message === 'string') this.#handler.onText?.(message);
    else this.#handler.onBinary?.(message);
  }

  /** A compressed message arrived whole: inflate it (RFC 7692 §7.2.2), then check and deliver it. */
  #inflated(opcode: number, payload: Uint8Array): void {
    let data: Uint8Array;
    try {
      data = this.#deflate!.decompress(payload, this.#maxMessage);
    } catch (error) {
      if (error instanceof InflateLimitError) {
        throw new ProtocolError('MESSAGE_TOO_LARGE', `decompressed message exceeds maxMessage ${this.#maxMessage}`, CloseCode.MessageTooBig);
      }
      // Not valid DEFLATE data: the payload is not what its frame claims (RFC 6455 §7.4.1, 1007).
      throw new ProtocolError('INVALID_COMPRESSED_DATA', 'the compressed message could not be inflated', CloseCode.InvalidPayload);
    }
    if (opcode === Opcode.Text) this.#handler.onText?.(decodeUtf8(data));
    else this.#handler.onBinary?.(data);
  }

  #control(opcode: number, payload: Uint8Array): void {
    if (opcode === Opcode.Ping) {
      // RFC 6455 §5.5.2: answer with a Pong of the same payload, unless we are closing.
      if (this.#autoPong && this.#closeSent === null) {
        if (this.#handler.holdPong?.() === true) {
          // §5.5.3: a Pong for only the most recent Ping will do. Copied: the payload may
          // be a view of a read buffer (at most 125 octets, §5.5).
          this.#heldPong = payload.slice();
        } else {
          this.#heldPong = null;
          writeFrameTo(this.#handler, this.#keys, true, 0, Opcode.Pong, payload, this.#allocate);
        }
      }
      this.#handler.onPing?.(payload);
    } else if (opcode === Opcode.Pong) {
      this.#handler.onPong?.(payload);
    } else {
      const { code, reason } = parseClosePayload(payload);
      // The Pings before this Close still get their Pong (§5.5.2), ahead of our Close reply.
      this.#flushHeldPong();
      this.#closeReceived = { code, reason };
      // RFC 6455 §5.5.1: answer a Close with a Close echoing its code (and reason, so both ends
      // report what the closer said); after it no more frames.
      if (this.#closeSent === null) {
        const echo = code === CloseCode.NoStatusReceived ? undefined : code;
        this.#writeClose(echo, echo === undefined ? '' : reason);
      }
      this.#state = ProtocolState.Closed;
      this.#parser.halt();
      this.#message.reset();
      this.#handler.onClose?.(code, reason);
    }
  }

  // ---- sending ---------------------------------------------------------------------

  /** Whether an automatic Pong is held back, waiting for {@link sendHeldPong}. */
  get hasHeldPong(): boolean {
    return this.#heldPong !== null;
  }

  /**
   * Writes the held automatic Pong, if any (see {@link ProtocolHandler.holdPong}): one
   * Pong, for the most recent Ping (RFC 6455 §5.5.3). A Pong still held when a Close is
   * sent or received goes out just ahead of that Close; nothing after it.
   * @returns whether a Pong was written
   *
   * @example
   * ```ts
   * let peerReads = false;
   * const out: Uint8Array[] = [];
   * const ws = new WebSocketProtocol({ role: 'client' }, { write: (b) => out.push(b), holdPong: () => !peerReads });
   * ws.receiveData(Uint8Array.of(0x89, 0x01, 0x01)); // Ping 01: its Pong is held
   * ws.receiveData(Uint8Array.of(0x89, 0x01, 0x02)); // Ping 02 replaces it
   * peerReads = true;
   * ws.sendHeldPong(); // true: one Pong, payload 02, is written
   * ```
   */
  sendHeldPong(): boolean {
    const payload = this.#heldPong;
    if (payload === null) return false;
    this.#heldPong = null;
    if (this.#closeSent !== null || this.#closeReceived !== null || this.#error !== null) return false;
    writeFrameTo(this.#handler, this.#keys, true, 0, Opcode.Pong, payload, this.#allocate);
    return true;
  }

  /** Writes a held Pong now, whatever the queue (a Close is about to be written behind it). */
  #flushHeldPong(): void {
    const payload = this.#heldPong;
    if (payload === null || this.#closeSent !== null) return;
    this.#heldPong = null;
    writeFrameTo(this.#handler, this.#keys, true, 0, Opcode.Pong, payload, this.#allocate);
  }

  /** Whether data may still be sent: no Close sent or received. */
  get canSend(): boolean {
    return this.#closeSent === null && this.#closeReceived === null && this.#error === null;
  }

  /**
   * Sends a text message, or a fragment of one when `fin` is false (later fragments
   * continue it; the last has `fin` true).
   * @param compress with permessage-deflate: `false` sends it uncompressed, `true` compresses
   *   it whatever its size; by default messages from the threshold up are compressed
   * @returns false, sending nothing, once a Close was sent or received (RFC 6455 §5.5.1)
   * @throws TypeError if a fragmented binary message is being sent
   */
  sendText(text: string, fin = true, compress?: boolean): boolean {
    if (!this.canSend) return false;
    const deflate = this.#deflate;
    // Compressed only whole (RFC 7692 §6.1 allows fragments, but a message sent in pieces
    // is the caller's streaming choice: it goes as it is). A UTF-16 length under a third
    // of the threshold cannot reach it in UTF-8.
    if (deflate !== null && fin && this.#sendingOpcode === 0 && compress !== false && (compress === true || text.length * 3 >= deflate.threshold)) {
      const bytes = encodeUtf8(text);
      if (deflate.shouldCompress(bytes.length, compress)) return this.#sendCompressed(Opcode.Text, bytes);
      writeFrameTo(this.#handler, this.#keys, true, 0, Opcode.Text, bytes, this.#allocate);
      return true;
    }
    writeTextTo(this.#handler, this.#keys, fin, 0, this.#dataOpcode(Opcode.Text, fin), text, this.#allocate);
    return true;
  }

  /**
   * Sends a binary message, or a fragment of one when `fin` is false.
   * @param compress as for {@link sendText}
   * @returns false, sending nothing, once a Close was sent or received
   * @throws TypeError if a fragmented text message is being sent
   */
  sendBinary(data: Uint8Array, fin = true, compress?: boolean): boolean {
    if (!this.canSend) return false;
    const deflate = this.#deflate;
    if (deflate !== null && fin && this.#sendingOpcode === 0 && deflate.shouldCompress(data.length, compress)) {
      return this.#sendCompressed(Opcode.Binary, data);
    }
    writeFrameTo(this.#handler, this.#keys, fin, 0, this.#dataOpcode(Opcode.Binary, fin), data, this.#allocate);
    return true;
  }

  /** Whether a fragmented message is being sent (its last fragment not yet sent). */
  get sendingFragmented(): boolean {
    return this.#sendingOpcode !== 0;
  }

  /**
   * Sends a message framed once for many connections (server role): its frame as it is,
   * or, with permessage-deflate and the message at or above the threshold (or its
   * `compress` true), compressed: one frame shared with every connection whose sending
   * side resets its context after each message and uses the same window, else compressed
   * by this connection's own deflater (its context taken over, as `sendText` would).
   * @returns false, sending nothing, once a Close was sent or received
   * @throws TypeError in the client role (frames are masked there), or while a fragmented
   *   message is being sent
   */
  sendPrepared(message: PreparedMessage): boolean {
    if (!this.canSend) return false;
    if (this.#keys !== null) throw new TypeError('a prepared message is framed for the server role; a client masks each frame');
    if (this.#sendingOpcode !== 0) throw new TypeError('a fragmented message is being sent; finish it first');
    const deflate = this.#deflate;
    if (deflate !== null && deflate.shouldCompress(message.payload.length, message.compress)) {
      const windowBits = deflate.sharedWindowBits;
      if (windowBits === null) return this.#sendCompressed(message.binary ? Opcode.Binary : Opcode.Text, message.payload);
      let frame: Uint8Array;
      try {
        frame = message.compressedFrame(windowBits, deflate);
      } catch {
        this.fail(new ProtocolError('INTERNAL_ERROR', 'compression failed', CloseCode.InternalError));
        return false;
      }
      this.#handler.write(frame);
      return true;
    }
    this.#handler.write(message.frame);
    return true;
  }

  /** Sends a whole message compressed, in one frame with RSV1 set (RFC 7692 §6, §7.2.1). */
  #sendCompressed(opcode: number, data: Uint8Array): boolean {
    let payload: Uint8Array;
    try {
      payload = this.#deflate!.compress(data);
    } catch {
      this.fail(new ProtocolError('INTERNAL_ERROR', 'compression failed', CloseCode.InternalError));
      return false;
    }
    writeFrameTo(this.#handler, this.#keys, true, RSV1, opcode, payload, this.#allocate);
    return true;
  }

  /** The opcode for the next data frame, tracking an outgoing fragmented message. */
  #dataOpcode(kind: number, fin: boolean): number {
    const current = this.#sendingOpcode;
    if (current !== 0 && current !== kind) {
      throw new TypeError('cannot interleave a text and a binary message: finish the fragmented one first');
    }
    this.#sendingOpcode = fin ? 0 : kind;
    return current === 0 ? kind : Opcode.Continuation;
  }

  /**
   * Sends a Ping (at most 125 octets).
   * @returns false once a Close was sent or received
   * @throws RangeError for a payload over 125 octets
   */
  sendPing(payload: Uint8Array = EMPTY): boolean {
    if (!this.canSend) return false;
    writeFrameTo(this.#handler, this.#keys, true, 0, Opcode.Ping, payload, this.#allocate);
    return true;
  }

  /** Sends an unsolicited Pong, a unidirectional heartbeat (RFC 6455 §5.5.3). */
  sendPong(payload: Uint8Array = EMPTY): boolean {
    if (!this.canSend) return false;
    writeFrameTo(this.#handler, this.#keys, true, 0, Opcode.Pong, payload, this.#allocate);
    return true;
  }

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2). With no code the Close frame has no
   * payload. Does nothing if a Close was already sent or received (the arguments are then
   * not checked).
   * The reason is a string or its UTF-8 octets (a `Uint8Array`).
   * @throws RangeError for a code that may not be sent or a reason over 123 UTF-8 octets;
   *   TypeError for a reason that is neither a string nor a `Uint8Array` of UTF-8
   */
  close(code?: number, reason: string | Uint8Array = ''): void {
    // Closing already started: nothing to do, whatever the arguments.
    if (this.#closeSent !== null || this.#closeReceived !== null || this.#error !== null) return;
    const payload = serializeClosePayload(code, reason);
    // A Pong held for a Ping received before now goes out first: nothing may follow the Close.
    this.#flushHeldPong();
    writeFrameTo(this.#handler, this.#keys, true, 0, Opcode.Close, payload, this.#allocate);
    this.#closeSent = { code: code ?? CloseCode.NoStatusReceived, reason: typeof reason === 'string' ? reason : decodeUtf8(reason) };
    this.#state = ProtocolState.Closing;
  }

  /**
   * Fails the connection (RFC 6455 §7.1.7): sends a Close with the error's code if none
   * was sent, stops reading, and moves to closed. The transport should be closed next.
   */
  fail(error: ProtocolError): void {
    if (this.#error !== null) return;
    this.#error = error;
    if (this.#closeSent === null && this.#closeReceived === null) {
      this.#writeClose(error.closeCode, closeReasonFor(error));
    }
    this.#state = ProtocolState.Closed;
    this.#parser.halt();
    this.#message.reset();
    this.#handler.onError?.(error);
  }

  #writeClose(code: number | undefined, reason: string): void {
    writeFrameTo(this.#handler, this.#keys, true, 0, Opcode.Close, serializeClosePayload(code, reason), this.#allocate);
    this.#closeSent = { code: code ?? CloseCode.NoStatusReceived, reason };
  }
}
