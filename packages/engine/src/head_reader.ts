/**
 * Reads one HTTP/1.1 head off an {@link EngineSocket} with the codec's incremental parser,
 * and keeps whatever follows it (early frames, a request body) for whoever takes the
 * socket next.
 * @module
 */
import { HttpHeadParser, type HttpHeadKind, type HttpHeadOf, type HttpHeadOptions } from '@wsflow/codec';
import type { EngineSocket, SocketReceiver } from './engine_socket.ts';

/** A head, and the bytes that arrived after it in the same read. */
export interface HeadRead<K extends HttpHeadKind> {
  head: HttpHeadOf<K>;
  /** Bytes after the head in its read (maybe empty). */
  rest: Uint8Array;
}

/** The socket ended or closed before a complete head arrived. */
export class ConnectionLostError extends Error {
  /** Bytes received before the end (0: the peer sent nothing, as a port probe does). */
  readonly bytesReceived: number;

  constructor(bytesReceived: number, kind: 'request' | 'response' = 'request', options?: ErrorOptions) {
    super(`The connection closed before a complete ${kind} head arrived`, options);
    this.name = 'ConnectionLostError';
    this.bytesReceived = bytesReceived;
  }
}

/**
 * Becomes the socket's receiver and resolves {@link head} with the first complete head.
 * After the head the socket is held, and what still arrives is kept for
 * {@link takeBuffered}; {@link gone} resolves when the socket closes.
 *
 * @example
 * ```ts
 * const reader = new HeadReader(socket, 'request', { maxHeadSize: 8192 });
 * const { head } = await reader.head; // rejects with HandshakeError (431, 400…) or ConnectionLostError
 * ```
 */
export class HeadReader<K extends HttpHeadKind> implements SocketReceiver {
  /** The head; rejects with the codec's `HandshakeError` or a {@link ConnectionLostError}. */
  readonly head: Promise<HeadRead<K>>;
  /** Resolves when the socket closes after the head. */
  readonly gone: Promise<void>;

  readonly #socket: EngineSocket;
  readonly #parser: HttpHeadParser<K>;
  readonly #kind: K;
  #resolve!: (read: HeadRead<K>) => void;
  #reject!: (error: unknown) => void;
  #resolveGone!: () => void;
  #complete = false;
  #failed = false;
  #received = 0;
  #buffered: Uint8Array[] = [];
  #ended = false;
  #closed = false;
  #closeError: unknown;

  constructor(socket: EngineSocket, kind: K, options: HttpHeadOptions = {}) {
    this.#socket = socket;
    this.#kind = kind;
    this.#parser = new HttpHeadParser(kind, options);
    this.head = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.head.catch(() => {}); // awaited by the owner; not an unhandled rejection here
    this.gone = new Promise((resolve) => (this.#resolveGone = resolve));
    socket.receiver = this;
    socket.release();
  }

  /** Whether the peer finished sending after the head. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Whether the socket closed after the head. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The error the socket closed with, if any. */
  get closeError(): unknown {
    return this.#closeError;
  }

  /** Takes the bytes that arrived after the head (the head's `rest` first). */
  takeBuffered(): Uint8Array[] {
    const chunks = this.#buffered;
    this.#buffered = [];
    return chunks;
  }

  receive(chunk: Uint8Array): void {
    if (this.#complete) {
      this.#buffered.push(chunk);
      return;
    }
    if (this.#failed) return;
    this.#received += chunk.length;
    let result;
    try {
      result = this.#parser.push(chunk);
    } catch (error) {
      this.#failed = true;
      this.#reject(error);
      return;
    }
    if (result === null) return;
    this.#complete = true;
    this.#socket.hold();
    if (result.rest.length > 0) this.#buffered.push(result.rest);
    this.#resolve({ head: result.head, rest: result.rest });
  }

  receiveEnd(): void {
    if (this.#complete) this.#ended = true;
    else this.#lost();
  }

  transportClosed(error?: unknown): void {
    if (!this.#complete) {
      this.#lost(error);
      return;
    }
    this.#closed = true;
    this.#closeError = error;
    this.#resolveGone();
  }

  drain(): void {}

  #lost(error?: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#reject(new ConnectionLostError(this.#received, this.#kind, error === undefined ? undefined : { cause: error }));
  }
}
