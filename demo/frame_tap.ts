/**
 * A read-only tap on a WebSocket connection's bytes, for the demo's frame log.
 *
 * The bytes that pass each way (read off the socket by `tapSocket`) are parsed with the
 * codec's own `FrameParser` (one parser per direction, in the role of the side that
 * *receives* those bytes) and each frame is described in one compact record. Neither
 * side of the connection sees the tap.
 * @module
 */
import type { Duplex } from 'node:stream';
import { FrameParser, Opcode, ProtocolError, type FrameSink, type Role } from '@wsflow/codec';

/** Which way a frame went, seen from the server. */
export type Direction = 'in' | 'out';

/** One frame, described. */
export interface FrameDescription {
  /** Milliseconds since the epoch when the frame was seen. */
  at: number;
  dir: Direction;
  /** The 4-bit opcode and its name (RFC 6455 §5.2). */
  opcode: number;
  name: string;
  fin: boolean;
  /** The MASK bit: set on every client frame, on no server frame (the parser checks it). */
  masked: boolean;
  /** The RSV1–3 bits as they sit in the first octet (`0x70` mask). */
  rsv: number;
  /** The payload length. */
  length: number;
  /** The first octets of the (unmasked) payload in hex. */
  hex: string;
  /** For text frames, the start of the payload as text. */
  text?: string;
  /** The parser refused the bytes here (the connection will have failed too). */
  error?: string;
}

/** Octets of payload shown in `hex`. */
const SHOWN = 16;

const NAMES: Record<number, string> = {
  [Opcode.Continuation]: 'cont',
  [Opcode.Text]: 'text',
  [Opcode.Binary]: 'binary',
  [Opcode.Close]: 'close',
  [Opcode.Ping]: 'ping',
  [Opcode.Pong]: 'pong',
};

function hexOf(bytes: Uint8Array): string {
  let out = '';
  const n = Math.min(bytes.length, SHOWN);
  for (let i = 0; i < n; i++) out += (i === 0 ? '' : ' ') + bytes[i].toString(16).padStart(2, '0');
  return out;
}

const preview = new TextDecoder('utf-8', { fatal: false });

/** A FrameSink that only describes. */
class Describer implements FrameSink {
  readonly #dir: Direction;
  readonly #masked: boolean;
  readonly #emit: (frame: FrameDescription) => void;

  constructor(dir: Direction, masked: boolean, emit: (frame: FrameDescription) => void) {
    this.#dir = dir;
    this.#masked = masked;
    this.#emit = emit;
  }

  frameHeader(): void {}

  framePartial(): void {}

  frame(fin: boolean, rsv: number, opcode: number, payload: Uint8Array): void {
    const description: FrameDescription = {
      at: Date.now(),
      dir: this.#dir,
      opcode,
      name: NAMES[opcode] ?? `0x${opcode.toString(16)}`,
      fin,
      masked: this.#masked,
      rsv,
      length: payload.length,
      hex: hexOf(payload),
    };
    if (opcode === Opcode.Text || (opcode === Opcode.Continuation && payload.length > 0)) {
      description.text = preview.decode(payload.subarray(0, 48));
    }
    this.#emit(description);
  }
}

/** Options of {@link createFrameTap}. */
export interface TapOptions {
  /** The largest payload the connection accepts from the peer (the tap refuses the same). */
  maxPayload: number;
}

/** The two feeders of a tap: the bytes each way, exactly as they crossed the wire. */
export interface FrameTap {
  /** Bytes from the client (masked frames), past its upgrade request. */
  incoming(chunk: Uint8Array): void;
  /** Bytes from the server (unmasked frames), past its 101 response. */
  outgoing(chunk: Uint8Array): void;
}

/**
 * A tap that describes every frame of one connection from copies of its bytes. It only
 * reads the chunks it is given (never keeps or changes them), so the caller may hand the
 * same chunks on unchanged.
 *
 * @example
 * ```ts
 * const tap = createFrameTap((f) => console.log(f.dir, f.name, f.length), { maxPayload: 1 << 20 });
 * browser.on('data', (chunk) => tap.incoming(chunk));
 * ```
 */
export function createFrameTap(emit: (frame: FrameDescription) => void, options: TapOptions): FrameTap {
  return {
    // Bytes from a client: parsed in the server role (masked frames expected).
    incoming: parserFor('in', 'server', options.maxPayload, emit),
    // Bytes from the server: parsed in the client role (unmasked frames expected).
    outgoing: parserFor('out', 'client', Number.MAX_SAFE_INTEGER, emit),
  };
}

type Write = (chunk: unknown, ...rest: unknown[]) => boolean;

/**
 * Taps a WebSocket server socket past its 101 response (call it from the `attach`
 * handler): every frame each way goes to `emit`. Returns a function that removes the tap.
 *
 * @example
 * ```ts
 * attach(server, { path: '/ws', handler: (conn, req) => {
 *   tapSocket(req.socket, (f) => console.log(f.dir, f.name, f.length), { maxPayload: 1 << 20 });
 * } });
 * ```
 */
export function tapSocket(socket: Duplex, emit: (frame: FrameDescription) => void, options: TapOptions): () => void {
  const tap = createFrameTap(emit, options);
  // Prepended, so it sees each chunk before the connection does: the connection unmasks
  // received bytes in place (mutableInput), after which they are no longer the wire's.
  const onData = (chunk: Uint8Array): void => tap.incoming(chunk);
  socket.prependListener('data', onData);
  const target = socket as unknown as { write: Write };
  const original = target.write;
  const tapped: Write = function (this: unknown, chunk, ...rest) {
    if (chunk instanceof Uint8Array) tap.outgoing(chunk);
    return original.call(this, chunk, ...rest);
  };
  target.write = tapped;
  return () => {
    socket.off('data', onData);
    if (target.write === tapped) target.write = original;
  };
}

/** A function that feeds one direction's bytes to its parser, and reports the first refusal. */
function parserFor(dir: Direction, role: Role, maxPayload: number, emit: (frame: FrameDescription) => void): (chunk: Uint8Array) => void {
  const parser = new FrameParser({ role, maxPayload }, new Describer(dir, role === 'server', emit));
  let stopped = false;
  return (chunk) => {
    if (stopped) return;
    try {
      parser.push(chunk);
    } catch (error) {
      stopped = true;
      const code = error instanceof ProtocolError ? error.code : 'TAP_FAILED';
      emit({ at: Date.now(), dir, opcode: -1, name: 'invalid', fin: false, masked: false, rsv: 0, length: 0, hex: '', error: code });
    }
  };
}
