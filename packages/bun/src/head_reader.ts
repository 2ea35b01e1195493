/**
 * Reads one HTTP/1.1 head off a Bun socket with the codec's incremental parser, then stops
 * reading and keeps whatever follows (frames sent right behind the head are never lost).
 * @module
 */
import { HttpHeadParser, type HttpHeadKind, type HttpHeadOf, type HttpHeadOptions } from '@wsflow/codec';
import type { BunSocketTransport, TransportReceiver } from './socket_transport.ts';

/** A head and the bytes after it, as far as they have arrived. */
export interface HeadRead<K extends HttpHeadKind> {
  head: HttpHeadOf<K>;
  /** The bytes of the stream after the head (maybe none); more may follow: see {@link HeadReader.takeBuffered}. */
  rest: Uint8Array;
}

/**
 * The error a head read rejects with when the peer leaves before the head is complete.
 * @example
 * ```ts
 * try { await reader.head; } catch (e) { if (e instanceof ConnectionLostError) return; throw e; }
 * ```
 */
export class ConnectionLostError extends Error {
  constructor(message = 'The connection closed before a complete HTTP head arrived', options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConnectionLostError';
  }
}

/**
 * Becomes a transport's receiver and reads one head (lifting any hold). Once the head is complete it holds the
 * transport (stops reading) and buffers any bytes still arriving, until its owner takes
 * them with {@link takeBuffered} and hands the transport to someone else.
 *
 * `head` rejects with the parser's `HandshakeError` (malformed, too large) or a
 * {@link ConnectionLostError} when the socket ends or closes first.
 *
 * @example
 * ```ts
 * const reader = new HeadReader(transport, 'response');
 * const { head } = await reader.head;
 * const early = reader.takeBuffered(); // frames that came with the 101
 * ```
 */
export class HeadReader<K extends HttpHeadKind> implements TransportReceiver {
  /** Settles with the head once it is complete. */
  readonly head: Promise<HeadRead<K>>;
  /** Resolves when the socket closes after the head (before that, `head` rejects instead). */
  readonly gone: Promise<void>;

  readonly #transport: BunSocketTransport;
  readonly #parser: HttpHeadParser<K>;
  #resolve!: (read: HeadRead<K>) => void;
  #reject!: (error: unknown) => void;
  #resolveGone!: () => void;
  #complete = false;
  #failed = false;
  #buffered: Uint8Array[] = [];
  #ended = false;
  #closed = false;
  #closeError: unknown;

  constructor(transport: BunSocketTransport, kind: K, options: HttpHeadOptions = {}) {
    this.#transport = transport;
    this.#parser = new HttpHeadParser(kind, options);
    this.head = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.head.catch(() => {}); // the owner awaits it; a rejection nobody awaits is not an error here
    this.gone = new Promise((resolve) => (this.#resolveGone = resolve));
    transport.receiver = this;
    transport.release();
  }

  /** Whether the peer sent FIN after the head. */
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

  /** The bytes that followed the head, in order: the rest of its chunk and any later ones. Empties the buffer. */
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
    this.#transport.hold();
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
    this.#reject(new ConnectionLostError(undefined, error === undefined ? undefined : { cause: error }));
  }
}
