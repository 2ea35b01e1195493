/**
 * The server end of a WebSocket at the frame level, over a raw `node:net` socket, for the
 * fuzzing server: it writes exactly the frames it is told to (fragments, control frames in
 * between, invalid UTF-8, a dropped connection) and reports every frame the client sends,
 * without the connection's own rules in the way. Framing is the codec's `FrameParser` and
 * `serializeFrame`; what the frames must add up to is the fuzzing cases' business.
 * @module
 */
import type { Socket } from 'node:net';
import { FrameParser, Opcode, ProtocolError, makeFrame, serializeClosePayload, serializeFrame, type Frame } from '@wsflow/codec';

/** Something the client did, in order. */
export type PeerEvent =
  | { readonly type: 'frame'; readonly frame: Frame }
  /** The client's bytes broke RFC 6455 framing; nothing more is read. */
  | { readonly type: 'protocol-error'; readonly error: ProtocolError }
  /** The client ended its side or the socket closed; nothing more will come. */
  | { readonly type: 'end' }
  /** The deadline passed first. */
  | { readonly type: 'timeout' };

/** Options of a {@link RawPeer}. */
export interface RawPeerOptions {
  /** The largest frame payload accepted (a larger one is a protocol error). */
  maxPayload: number;
  /** RSV bits (a `0x70` mask) frames may carry: `0x40` once permessage-deflate is agreed. Default none. */
  allowedRsv?: number;
}

const END: PeerEvent = { type: 'end' };
const TIMEOUT: PeerEvent = { type: 'timeout' };

/**
 * A frame-level server peer on a socket that completed the opening handshake.
 *
 * @example
 * ```ts
 * const peer = new RawPeer(socket, rest, { maxPayload: 1 << 20 });
 * peer.send(makeFrame(Opcode.Text, new TextEncoder().encode('Hello')));
 * const event = await peer.next(Date.now() + 5000);
 * ```
 */
export class RawPeer {
  /** The payloads of every Pong received, in order. */
  readonly pongs: Uint8Array[] = [];
  readonly #socket: Socket;
  readonly #parser: FrameParser;
  readonly #events: PeerEvent[] = [];
  #waiter: ((event: PeerEvent) => void) | null = null;
  #finished: PeerEvent | null = null;
  readonly #closed: Promise<void>;

  /**
   * @param socket the socket, paused, after the 101 response was written
   * @param initial bytes that arrived after the request head
   */
  constructor(socket: Socket, initial: Uint8Array, options: RawPeerOptions) {
    this.#socket = socket;
    this.#parser = new FrameParser(
      { role: 'server', maxPayload: options.maxPayload, allowedRsv: options.allowedRsv ?? 0 },
      {
        frameHeader: () => {},
        framePartial: () => {},
        // Payloads may be views of a received chunk: keep copies.
        frame: (fin, rsv, opcode, payload) => {
          const frame: Frame = { fin, rsv1: (rsv & 0x40) !== 0, rsv2: (rsv & 0x20) !== 0, rsv3: (rsv & 0x10) !== 0, opcode, payload: payload.slice() };
          if (opcode === Opcode.Pong) this.pongs.push(frame.payload);
          this.#push({ type: 'frame', frame });
        },
      },
    );
    this.#closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => this.#finish(END));
    socket.on('end', () => this.#finish(END));
    socket.on('close', () => this.#finish(END));
    socket.on('data', (chunk: Uint8Array) => this.#receive(chunk));
    if (initial.length > 0) this.#receive(initial);
    socket.resume();
  }

  /** Resolves once the socket is closed. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /** Writes one frame, unmasked (server role). Nothing is written once the socket closed. */
  send(frame: Frame): void {
    this.write(serializeFrame(frame));
  }

  /** Writes raw bytes. */
  write(bytes: Uint8Array): void {
    if (!this.#socket.destroyed && this.#socket.writable) this.#socket.write(bytes);
  }

  /** Writes a Close frame (RFC 6455 §5.5.1); with no code, an empty one. */
  sendClose(code?: number, reason = ''): void {
    this.send(makeFrame(Opcode.Close, serializeClosePayload(code, reason)));
  }

  /**
   * The client's next frame or what ended it, waiting until `deadline` (a `Date.now()`
   * time) at most. After the end, every call returns the end again.
   */
  next(deadline: number): Promise<PeerEvent> {
    const queued = this.#events.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#finished !== null) return Promise.resolve(this.#finished);
    if (this.#waiter !== null) return Promise.reject(new TypeError('RawPeer.next is already waiting'));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiter = null;
        resolve(TIMEOUT);
      }, Math.max(0, deadline - Date.now()));
      this.#waiter = (event) => {
        clearTimeout(timer);
        this.#waiter = null;
        resolve(event);
      };
    });
  }

  /** Sends what is queued and then FIN: the server closes the TCP connection first (RFC 6455 §7.1.1). */
  end(): void {
    this.#socket.end();
  }

  /** Drops the connection at once, without a closing handshake. */
  destroy(): void {
    this.#socket.destroy();
  }

  #receive(chunk: Uint8Array): void {
    if (this.#finished !== null) return;
    try {
      this.#parser.push(chunk);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.#finish({ type: 'protocol-error', error });
    }
  }

  #push(event: PeerEvent): void {
    if (this.#finished !== null) return;
    if (this.#waiter !== null) this.#waiter(event);
    else this.#events.push(event);
  }

  #finish(event: PeerEvent): void {
    if (this.#finished !== null) return;
    this.#push(event);
    this.#finished = event;
  }
}
