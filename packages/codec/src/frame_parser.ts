/**
 * The incremental frame parser (RFC 6455 §5.2), an explicit state machine.
 *
 * It takes network bytes in chunks of any size, checks every header rule that a single
 * frame can break, unmasks, and reports frames to a {@link FrameSink}. It never assumes a
 * chunk holds a whole frame and returns as soon as bytes run short. Rules that span
 * frames (fragmentation, UTF-8, message limits) belong to the sink.
 * @module
 */
import { CloseCode, isControlOpcode, isKnownOpcode, MAX_CONTROL_PAYLOAD, type Role } from './constants.ts';
import { ProtocolError } from './errors.ts';
import { markHeadroom } from './headroom.ts';
import { maskInto } from './mask.ts';

/** Receives what the parser finds. A sink may throw a {@link ProtocolError} to stop parsing. */
export interface FrameSink {
  /**
   * A frame header was read (before any of its payload). Fragmentation and message-size
   * rules can be enforced here, before a byte of payload is buffered.
   * @param rsv the three reserved bits as they sit in the first octet (`0x70` mask)
   * @returns `true` to have the payload of this frame reported piece by piece through
   *   {@link framePartial} if it arrives split (text validated as it comes); anything else
   *   lets the parser gather it and unmask it once, at the end
   */
  frameHeader(fin: boolean, rsv: number, opcode: number, length: number): boolean | void;
  /**
   * Part of a data frame's payload arrived, unmasked, while the rest has not. Called only
   * for data frames (opcodes 0–2) split across chunks whose {@link frameHeader} returned
   * `true`, so that text can be validated as it arrives. The same bytes are also part of
   * the payload later given to {@link frame}.
   */
  framePartial(piece: Uint8Array): void;
  /**
   * A whole frame arrived.
   * @param payload the unmasked payload (may be a view into a received chunk)
   * @param seen how many leading octets of `payload` were already given to {@link framePartial}
   */
  frame(fin: boolean, rsv: number, opcode: number, payload: Uint8Array, seen: number): void;
}

/** Options of a {@link FrameParser}. */
export interface FrameParserOptions {
  /** `'server'` requires masked frames; `'client'` requires unmasked ones (RFC 6455 §5.1). */
  role: Role;
  /** The largest payload of one frame; a larger one is a 1009. */
  maxPayload: number;
  /** Which RSV bits (as a `0x70` mask) a negotiated extension allows; any other set bit is a 1002. */
  allowedRsv?: number;
  /**
   * The caller hands its chunks over (a socket's fresh read buffers, never written
   * again): masked payloads are unmasked in place in the chunks instead of into a new
   * buffer; a payload split across chunks that lie back to back in one buffer (a
   * transport reading into consecutive regions of one buffer) is delivered as a view of
   * it, uncopied; and large payloads are marked so that a reply with the same bytes can
   * put its header where the received header was (see `takeHeadroom`). Default false:
   * chunks are never modified.
   */
  mutableInput?: boolean;
  /**
   * Allocates the buffers payloads are gathered or unmasked into. Every byte of such a
   * buffer is written before the sink sees it, so it need not be zero-filled: Node passes
   * `Buffer.allocUnsafe`. Default: `new Uint8Array(size)`.
   */
  allocate?: (size: number) => Uint8Array;
}

/** The parser's states, named. */
export const ParserState = {
  /** Reading the 2 to 14 header octets. */
  Header: 0,
  /** Reading payload octets of the current frame. */
  Payload: 1,
  /** Stopped after an error or by {@link FrameParser.halt}; input is ignored. */
  Halted: 2,
} as const;
/** A {@link ParserState} value. */
export type ParserState = (typeof ParserState)[keyof typeof ParserState];

/**
 * Split frames whose payload fits this are gathered into one buffer allocated when the
 * header arrives; larger ones are gathered in pieces as they come and joined at the end,
 * so a peer that sends only a huge header cannot make us allocate more than this.
 * (Chunks handed over, `mutableInput`, are always gathered in pieces.)
 */
const PREALLOCATE_MAX = 1024 * 1024;

/**
 * Payloads at least this large that arrive right behind their header in a handed-over
 * chunk are marked as having headroom: a reply that sends them back writes its header
 * there and goes out in one write instead of two. Smaller frames are copied beside their
 * header when sent anyway (see `writeFrameTo`).
 */
const HEADROOM_MIN = 16 * 1024;

/**
 * A split payload is kept as views of the reads it came in while they are large. Every
 * view costs some hundred octets of objects, so a peer that sends a frame an octet per
 * TCP segment would make each octet cost hundreds: once more than {@link PIECES_FREE}
 * pieces average under {@link PIECE_MIN} octets, the payload is copied into a buffer that
 * grows by doubling (at most twice what arrived, and never past the frame's length).
 */
const PIECES_FREE = 16;
const PIECE_MIN = 1024;
/** The first size of that buffer (or the frame's length if smaller). */
const GATHER_START = 16 * 1024;

const EMPTY = new Uint8Array(0);

/** The default allocator: a zero-filled `Uint8Array`. */
const newUint8Array = (size: number): Uint8Array => new Uint8Array(size);

/**
 * An incremental, allocation-light frame parser.
 *
 * @example
 * ```ts
 * const parser = new FrameParser({ role: 'client', maxPayload: 1 << 20 }, {
 *   frameHeader() {},
 *   framePartial() {},
 *   frame(fin, rsv, opcode, payload) { console.log(opcode, payload); },
 * });
 * parser.push(new Uint8Array([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])); // text "Hello"
 * ```
 */
export class FrameParser {
  #state: ParserState = ParserState.Header;
  readonly #sink: FrameSink;
  readonly #expectMask: boolean;
  readonly #mutableInput: boolean;
  readonly #allocate: (size: number) => Uint8Array;
  #maxPayload: number;
  #allowedRsv: number;

  // Header octets gathered across chunks.
  /** Header octets gathered across chunks; allocated the first time a header is split. */
  #head: Uint8Array | null = null;
  #headLength = 0;

  // The frame being read.
  #fin = false;
  #rsv = 0;
  #opcode = 0;
  #masked = false;
  #key = 0;
  #length = 0;
  #received = 0;
  #seen = 0;
  /** Whether the sink wants the current frame's payload piece by piece (text). */
  #partials = false;
  /** Whether the gathered pieces are still masked (unmasked once, when the frame is whole). */
  #rawPieces = false;
  /** Whether the current frame's header lies right before its first payload octet in the chunk. */
  #headerBehind = false;
  /** Preallocated payload buffer for a split frame, or null. */
  #buffer: Uint8Array | null = null;
  /** Pieces of a split frame: handed-over chunks' views, or those too large to preallocate. */
  #pieces: Uint8Array[] | null = null;
  /** The growing buffer a split frame arriving in many small pieces is copied into (unmasked), or null. */
  #gather: Uint8Array | null = null;

  constructor(options: FrameParserOptions, sink: FrameSink) {
    this.#sink = sink;
    this.#expectMask = options.role === 'server';
    this.#mutableInput = options.mutableInput ?? false;
    this.#allocate = options.allocate ?? newUint8Array;
    this.#maxPayload = options.maxPayload;
    this.#allowedRsv = options.allowedRsv ?? 0;
  }

  /** The current state. */
  get state(): ParserState {
    return this.#state;
  }

  /** Changes which RSV bits are allowed (after extension negotiation). */
  set allowedRsv(mask: number) {
    this.#allowedRsv = mask & 0x70;
  }

  /** Changes the per-frame payload limit. */
  set maxPayload(limit: number) {
    this.#maxPayload = limit;
  }

  /**
   * What the parser holds of a frame still arriving: how many separate pieces, and how
   * many octets are allocated or viewed for them. @internal (tests bound these)
   */
  get held(): { pieces: number; octets: number } {
    if (this.#gather !== null) return { pieces: 1, octets: this.#gather.length };
    if (this.#buffer !== null) return { pieces: 1, octets: this.#buffer.length };
    const pieces = this.#pieces;
    if (pieces === null) return { pieces: 0, octets: 0 };
    let octets = 0;
    for (const piece of pieces) octets += piece.length;
    return { pieces: pieces.length, octets };
  }

  /** Whether the parser is between frames (no partial frame buffered). */
  get atFrameBoundary(): boolean {
    return this.#state === ParserState.Header && this.#headLength === 0;
  }

  /** Stops parsing: later input is ignored and buffered payload is released. */
  halt(): void {
    this.#state = ParserState.Halted;
    this.#buffer = null;
    this.#pieces = null;
    this.#gather = null;
  }

  /**
   * Parses a chunk of received bytes. The chunk is not modified; payloads given to the
   * sink may be views of it, so the caller must not reuse its memory.
   * @throws ProtocolError when the bytes break RFC 6455 (the parser is then halted)
   */
  push(chunk: Uint8Array): void {
    let pos = 0;
    const end = chunk.length;
    try {
      while (pos < end) {
        if (this.#state === ParserState.Header) {
          pos = this.#readHeader(chunk, pos, end);
        } else if (this.#state === ParserState.Payload) {
          pos = this.#readPayload(chunk, pos, end);
        } else {
          return;
        }
      }
    } catch (error) {
      this.halt();
      throw error;
    }
  }

  /** Reads header octets; returns the new position. */
  #readHeader(chunk: Uint8Array, pos: number, end: number): number {
    if (this.#headLength === 0 && end - pos >= 2) {
      // Fast path: the header may be whole in this chunk.
      const need = this.#checkFirstOctets(chunk[pos], chunk[pos + 1]);
      if (end - pos >= need) {
        this.#decodeHeader(chunk, pos);
        this.#headerBehind = true;
        return this.#afterHeader(chunk, pos + need, end);
      }
    }
    // Slow path: gather header octets across chunks.
    const head = (this.#head ??= new Uint8Array(14));
    while (pos < end) {
      head[this.#headLength++] = chunk[pos++];
      if (this.#headLength < 2) continue;
      const need = this.#headLength === 2 ? this.#checkFirstOctets(head[0], head[1]) : this.#headerSize(head[1]);
      if (this.#headLength === need) {
        this.#decodeHeader(head, 0);
        this.#headLength = 0;
        this.#headerBehind = false;
        return this.#afterHeader(chunk, pos, end);
      }
    }
    return pos;
  }

  #headerSize(b1: number): number {
    const len = b1 & 0x7f;
    return 2 + (len === 126 ? 2 : len === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
  }

  /**
   * Checks what the first two octets alone decide, as soon as they are known
   * (fail fast), and returns the header's full size.
   */
  #checkFirstOctets(b0: number, b1: number): number {
    const opcode = b0 & 0x0f;
    // RFC 6455 §5.2: RSV1-3 MUST be 0 unless an extension defines them.
    if ((b0 & 0x70 & ~this.#allowedRsv) !== 0) {
      throw new ProtocolError('RESERVED_BITS', `reserved bits 0x${(b0 & 0x70).toString(16)} set without an extension`);
    }
    // RFC 6455 §5.2: reserved opcodes fail the connection.
    if (!isKnownOpcode(opcode)) {
      throw new ProtocolError('RESERVED_OPCODE', `reserved opcode 0x${opcode.toString(16)}`);
    }
    if (isControlOpcode(opcode)) {
      // RFC 6455 §5.5: control frames are not fragmented and carry at most 125 octets.
      if ((b0 & 0x80) === 0) throw new ProtocolError('FRAGMENTED_CONTROL', 'control frame without FIN');
      if ((b1 & 0x7f) > MAX_CONTROL_PAYLOAD) {
        throw new ProtocolError('CONTROL_TOO_LARGE', 'control frame payload over 125 octets');
      }
    }
    // RFC 6455 §5.1: clients mask every frame; servers mask none.
    const masked = (b1 & 0x80) !== 0;
    if (masked !== this.#expectMask) {
      throw this.#expectMask
        ? new ProtocolError('UNMASKED_FRAME', 'client frame is not masked')
        : new ProtocolError('MASKED_FRAME', 'server frame is masked');
    }
    return this.#headerSize(b1);
  }

  /** Decodes a complete header at `buf[off]` (first octets already checked). */
  #decodeHeader(buf: Uint8Array, off: number): void {
    const b0 = buf[off];
    const b1 = buf[off + 1];
    let length = b1 & 0x7f;
    let p = off + 2;
    if (length === 126) {
      length = (buf[p] << 8) | buf[p + 1];
      p += 2;
      // RFC 6455 §5.2: "the minimal number of bytes MUST be used to encode the length".
      if (length < 126) throw new ProtocolError('NON_MINIMAL_LENGTH', `length ${length} encoded in 16 bits`);
    } else if (length === 127) {
      const hi = ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
      const lo = ((buf[p + 4] << 24) | (buf[p + 5] << 16) | (buf[p + 6] << 8) | buf[p + 7]) >>> 0;
      p += 8;
      // RFC 6455 §5.2: the most significant bit of a 64-bit length MUST be 0.
      if (hi >= 0x80000000) throw new ProtocolError('LENGTH_TOO_LARGE', '64-bit length with the top bit set');
      if (hi === 0 && lo < 0x10000) throw new ProtocolError('NON_MINIMAL_LENGTH', `length ${lo} encoded in 64 bits`);
      // Above 2^53 the value is not exact, but it is far above any limit anyway.
      length = hi * 0x100000000 + lo;
    }
    if (length > this.#maxPayload) {
      throw new ProtocolError(
        'PAYLOAD_TOO_LARGE',
        `frame payload of ${length} octets exceeds maxPayload ${this.#maxPayload}`,
        CloseCode.MessageTooBig,
      );
    }
    this.#fin = (b0 & 0x80) !== 0;
    this.#rsv = b0 & 0x70;
    this.#opcode = b0 & 0x0f;
    this.#masked = (b1 & 0x80) !== 0;
    if (this.#masked) {
      this.#key = ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
    }
    this.#length = length;
    this.#received = 0;
    this.#seen = 0;
    this.#partials = this.#sink.frameHeader(this.#fin, this.#rsv, this.#opcode, length) === true;
  }

  /** After a header: deliver the frame at once if its payload is here, else start gathering it. */
  #afterHeader(chunk: Uint8Array, pos: number, end: number): number {
    const length = this.#length;
    if (end - pos >= length) {
      let payload: Uint8Array;
      if (length === 0) payload = EMPTY;
      else if (!this.#masked) payload = chunk.subarray(pos, pos + length);
      else if (this.#mutableInput) {
        payload = chunk.subarray(pos, pos + length);
        maskInto(payload, payload, 0, this.#key, 0);
        if (length >= HEADROOM_MIN && this.#headerBehind) markHeadroom(payload);
      } else {
        payload = this.#allocate(length);
        maskInto(chunk.subarray(pos, pos + length), payload, 0, this.#key, 0);
      }
      this.#sink.frame(this.#fin, this.#rsv, this.#opcode, payload, 0);
      return pos + length;
    }
    this.#state = ParserState.Payload;
    if (this.#mutableInput) {
      // Handed-over chunks: keep views of them. Pieces the sink reads as they come
      // (text) are unmasked in place now; others once, when the frame is whole.
      this.#pieces = [];
      this.#rawPieces = this.#masked && !this.#partials;
      if (pos === end) this.#headerBehind = false;
    } else if (length <= PREALLOCATE_MAX) this.#buffer = this.#allocate(length);
    else this.#pieces = [];
    return pos < end ? this.#readPayload(chunk, pos, end) : pos;
  }

  /** Gathers payload octets of a split frame. */
  #readPayload(chunk: Uint8Array, pos: number, end: number): number {
    const take = Math.min(end - pos, this.#length - this.#received);
    const src = chunk.subarray(pos, pos + take);
    let piece: Uint8Array;
    if (this.#buffer !== null) {
      const at = this.#received;
      if (this.#masked) maskInto(src, this.#buffer, at, this.#key, at);
      else this.#buffer.set(src, at);
      piece = this.#buffer.subarray(at, at + take);
    } else if (this.#gather !== null) {
      piece = this.#appendGather(src);
    } else {
      if (!this.#masked || this.#rawPieces) piece = src;
      else if (this.#mutableInput) {
        // The chunk is ours: unmask the piece where it lies and keep a view of it.
        piece = src;
        maskInto(src, src, 0, this.#key, this.#received);
      } else {
        piece = this.#allocate(take);
        maskInto(src, piece, 0, this.#key, this.#received);
      }
      this.#addPiece(piece);
    }
    this.#received += take;
    pos += take;
    const pieces = this.#pieces;
    if (pieces !== null && pieces.length > PIECES_FREE && this.#received < pieces.length * PIECE_MIN) this.#startGather(pieces);
    if (this.#received < this.#length) {
      // Only data frames are reported in pieces; a control frame is at most 125 octets.
      if (this.#partials && !isControlOpcode(this.#opcode) && take > 0) {
        this.#sink.framePartial(piece);
        this.#seen += take;
      }
      return pos;
    }
    let payload: Uint8Array;
    if (this.#buffer !== null) payload = this.#buffer;
    else if (this.#gather !== null) payload = this.#gather;
    else payload = this.#joinPieces(this.#pieces!);
    this.#buffer = null;
    this.#pieces = null;
    this.#gather = null;
    this.#state = ParserState.Header;
    this.#sink.frame(this.#fin, this.#rsv, this.#opcode, payload, this.#seen);
    return pos;
  }

  /**
   * Keeps a piece; one that continues the last in the same buffer extends it instead
   * (Deno's reads into one slab), so pieces back to back end up as one view.
   */
  #addPiece(piece: Uint8Array): void {
    const pieces = this.#pieces!;
    const n = pieces.length;
    if (n > 0) {
      const last = pieces[n - 1];
      if (last.buffer === piece.buffer && last.byteOffset + last.length === piece.byteOffset) {
        pieces[n - 1] = new Uint8Array(last.buffer, last.byteOffset, last.length + piece.length);
        return;
      }
    }
    pieces.push(piece);
  }

  /** Too many small pieces: copies them (unmasked) into a growing buffer that takes the rest too. */
  #startGather(pieces: Uint8Array[]): void {
    const received = this.#received;
    const gather = this.#allocate(Math.min(this.#length, Math.max(received * 2, GATHER_START)));
    let at = 0;
    for (const piece of pieces) {
      if (this.#rawPieces) maskInto(piece, gather, at, this.#key, at);
      else gather.set(piece, at);
      at += piece.length;
    }
    this.#gather = gather;
    this.#pieces = null;
    this.#rawPieces = false;
    this.#headerBehind = false;
  }

  /** Copies (and unmasks) `src` into the growing buffer, doubling it when full; returns where it went. */
  #appendGather(src: Uint8Array): Uint8Array {
    const at = this.#received;
    const end = at + src.length;
    let gather = this.#gather!;
    if (end > gather.length) {
      const grown = this.#allocate(Math.min(this.#length, Math.max(gather.length * 2, end)));
      grown.set(gather.subarray(0, at), 0);
      gather = this.#gather = grown;
    }
    if (this.#masked) maskInto(src, gather, at, this.#key, at);
    else gather.set(src, at);
    return gather.subarray(at, end);
  }

  /**
   * The payload of a split frame from its pieces: the one view when they all lay back to
   * back in one buffer (unmasked there if still masked), else a new buffer they are copied
   * (and unmasked) into.
   */
  #joinPieces(pieces: Uint8Array[]): Uint8Array {
    const length = this.#length;
    const raw = this.#rawPieces;
    this.#rawPieces = false;
    if (pieces.length === 1) {
      const whole = pieces[0];
      // Only handed-over chunks may be unmasked in place (raw pieces come from those).
      if (raw) maskInto(whole, whole, 0, this.#key, 0);
      if (this.#headerBehind && length >= HEADROOM_MIN && this.#mutableInput) markHeadroom(whole);
      return whole;
    }
    if (!raw) return concat(pieces, length, this.#allocate);
    const out = this.#allocate(length);
    let at = 0;
    for (const piece of pieces) {
      maskInto(piece, out, at, this.#key, at);
      at += piece.length;
    }
    return out;
  }
}

/** Concatenates pieces whose total length is known. */
export function concat(pieces: readonly Uint8Array[], total: number, allocate: (size: number) => Uint8Array = newUint8Array): Uint8Array {
  if (pieces.length === 1) return pieces[0];
  const out = allocate(total);
  let at = 0;
  for (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}
