/**
 * Feeds what an {@link EngineSocket} receives to a sans-I/O head decision (the codec's
 * `ServerHandshake`/`ClientHandshake`, or a plain head parser) until it decides, and keeps
 * whatever follows the head (early frames, a request body) for whoever takes the socket next.
 * @module
 */
import { HttpHeadParser, type HttpHeadKind, type HttpHeadOf, type HttpHeadOptions, type NeedMoreBytes } from '@wsflow/codec';
import type { EngineSocket, SocketReceiver } from './engine_socket.ts';

/** One step of a head decision: `need-more`, or a result with the bytes that followed the head. */
export interface HeadStep {
  readonly kind: string;
  /** Bytes after the head in the chunk that completed it (maybe empty). */
  readonly rest?: Uint8Array;
}

/** What a {@link HeadReader} resolves with: the decision's step other than `need-more`. */
export type Decided<S extends HeadStep> = Exclude<S, NeedMoreBytes>;

/** A head read by {@link headOf}, and the bytes that arrived after it in the same read. */
export interface HeadRead<K extends HttpHeadKind> {
  readonly kind: 'head';
  readonly head: HttpHeadOf<K>;
  /** Bytes after the head (maybe empty). */
  readonly rest: Uint8Array;
}

/** What follows a head, as a {@link HeadReader} keeps it for whoever takes the socket next. */
export interface HeadLeftovers {
  /** Whether the peer finished sending after the head. */
  readonly ended: boolean;
  /** Whether the socket closed after the head. */
  readonly closed: boolean;
  /** The error the socket closed with, if any. */
  readonly closeError: unknown;
  /** Takes the bytes that arrived after the head. */
  takeBuffered(): Uint8Array[];
}

const NEED_MORE: NeedMoreBytes = { kind: 'need-more' };
const EMPTY = new Uint8Array(0);

/**
 * A plain head parser as a decision (for heads that are no WebSocket handshake, such as a
 * proxy's answer to `CONNECT`): it throws the parser's `HandshakeError`.
 * @example
 * ```ts
 * const { head } = await new HeadReader(socket, headOf('response', { maxHeadSize }), 'response').head;
 * ```
 */
export function headOf<K extends HttpHeadKind>(kind: K, options: HttpHeadOptions = {}): (chunk: Uint8Array) => HeadRead<K> | NeedMoreBytes {
  const parser = new HttpHeadParser(kind, options);
  return (chunk) => {
    const result = parser.push(chunk);
    return result === null ? NEED_MORE : { kind: 'head', head: result.head, rest: result.rest };
  };
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
 * What {@link HeadReader} is after its head, for a head another server read (Node's
 * `upgrade` event): keeps `rest` and whatever arrives after it for the connection, and
 * tells when the socket closes. The socket stays held until the connection starts.
 * @example
 * ```ts
 * const held = new HeldAfterHead(socket, head); // `head`: the bytes after the request head
 * bindConnection(socket, options, held);
 * ```
 */
export class HeldAfterHead implements SocketReceiver, HeadLeftovers {
  /** Resolves when the socket closes. */
  readonly gone: Promise<void>;
  #resolveGone!: () => void;
  #buffered: Uint8Array[] = [];
  #ended = false;
  #closed = false;
  #closeError: unknown;

  constructor(socket: EngineSocket, rest: Uint8Array) {
    this.gone = new Promise((resolve) => (this.#resolveGone = resolve));
    if (rest.length > 0) this.#buffered.push(rest);
    socket.receiver = this;
  }

  get ended(): boolean {
    return this.#ended;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get closeError(): unknown {
    return this.#closeError;
  }

  takeBuffered(): Uint8Array[] {
    const chunks = this.#buffered;
    this.#buffered = [];
    return chunks;
  }

  receive(chunk: Uint8Array): void {
    this.#buffered.push(chunk);
  }

  receiveEnd(): void {
    this.#ended = true;
  }

  transportClosed(error?: unknown): void {
    this.#closed = true;
    this.#closeError = error;
    this.#resolveGone();
  }

  drain(): void {}
}

/**
 * Becomes the socket's receiver, feeds every chunk to `decide` and resolves {@link head}
 * with its first step that is not `need-more`. After that it is a {@link HeldAfterHead}:
 * the socket is held, what still arrives (the step's `rest` first) is kept for
 * {@link takeBuffered}, and {@link gone} resolves when the socket closes.
 *
 * @example
 * ```ts
 * const handshake = new ServerHandshake({ maxHeadSize: 8192 });
 * const reader = new HeadReader(socket, (chunk) => handshake.receive(chunk));
 * const step = await reader.head; // a `request` or a `refuse`; rejects with ConnectionLostError
 * ```
 */
export class HeadReader<S extends HeadStep> extends HeldAfterHead {
  /** The decided step; rejects with what `decide` threw or a {@link ConnectionLostError}. */
  readonly head: Promise<Decided<S>>;

  readonly #socket: EngineSocket;
  readonly #decide: (chunk: Uint8Array) => S;
  readonly #kind: HttpHeadKind;
  #resolve!: (step: Decided<S>) => void;
  #reject!: (error: unknown) => void;
  #complete = false;
  #failed = false;
  #received = 0;

  /** @param kind what head is awaited, for the {@link ConnectionLostError} message */
  constructor(socket: EngineSocket, decide: (chunk: Uint8Array) => S, kind: HttpHeadKind = 'request') {
    super(socket, EMPTY);
    this.#socket = socket;
    this.#kind = kind;
    this.#decide = decide;
    this.head = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.head.catch(() => {}); // awaited by the owner; not an unhandled rejection here
    socket.release();
  }

  override receive(chunk: Uint8Array): void {
    if (this.#complete) {
      super.receive(chunk);
      return;
    }
    if (this.#failed) return;
    this.#received += chunk.length;
    let step;
    try {
      step = this.#decide(chunk);
    } catch (error) {
      this.#failed = true;
      this.#reject(error);
      return;
    }
    if (step.kind === 'need-more') return;
    this.#complete = true;
    this.#socket.hold();
    if (step.rest !== undefined && step.rest.length > 0) super.receive(step.rest);
    this.#resolve(step as Decided<S>);
  }

  override receiveEnd(): void {
    if (this.#complete) super.receiveEnd();
    else this.#lost();
  }

  override transportClosed(error?: unknown): void {
    if (this.#complete) super.transportClosed(error);
    else this.#lost(error);
  }

  #lost(error?: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#reject(new ConnectionLostError(this.#received, this.#kind, error === undefined ? undefined : { cause: error }));
  }
}
