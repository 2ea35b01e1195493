/**
 * One opening handshake arriving at a {@link TestServer}, before it is answered: accept
 * it (choosing the subprotocol), reject it with an HTTP status, answer it with raw bytes,
 * drop it, or keep it waiting.
 * @module
 */
import {
  acceptUpgrade,
  buildRejection,
  encodeUtf8,
  parseProtocolHeader,
  type HeaderFieldsInit,
  type RequestHead,
} from '@wsflow/codec';
import { noteActivity, track } from './activity.ts';
import { binaryString } from './binary_string.ts';
import type { TestConnection } from './test_connection.ts';

/** Where a handshake is. */
export type TestHandshakeState = 'pending' | 'accepted' | 'rejected' | 'dropped';

/** Options of {@link TestHandshake.accept}. */
export interface AcceptOptions {
  /**
   * The subprotocol to select: one the client offered, or null for none. Default: the
   * server's choice (its `protocols` option; by default the client's first).
   */
  protocol?: string | null;
  /** Extra fields of the 101 response. */
  headers?: HeaderFieldsInit;
}

/** Options of {@link TestHandshake.reject}. */
export interface RejectOptions {
  /** Extra response fields. */
  headers?: HeaderFieldsInit;
  /** The response body. */
  body?: string;
}

const ignore = (): void => {};

/** Internal wiring a {@link TestServer} passes in. */
export interface TestHandshakeInit {
  url: URL;
  request: RequestHead;
  reader: ReadableStreamDefaultReader<Uint8Array>;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  /** The server's default subprotocol choice. */
  selectProtocol: (offered: string[], handshake: TestHandshake) => string | null;
  /** Settles when the client's side of the handshake does (tracked once answered). */
  clientHandshake: Promise<unknown>;
  /** Opens the connection after the 101 is written. */
  open: (handshake: TestHandshake, protocol: string, extensions: string) => TestConnection;
}

/**
 * A client's upgrade request waiting for the server's answer.
 *
 * @example
 * ```ts
 * const server = new TestServer('ws://example.test/', { autoAccept: false });
 * const ws = new WebSocket('ws://example.test/', ['v2', 'v1']);
 * const handshake = await server.nextHandshake();
 * handshake.protocols;              // ['v2', 'v1']
 * await handshake.accept({ protocol: 'v1' });
 * // or: handshake.reject(401, { headers: { 'WWW-Authenticate': 'Bearer' } });
 * ```
 */
export class TestHandshake {
  /** The URL the client requested, query included. */
  readonly url: URL;
  /** The request head: method, target, version, headers by lower-case name. */
  readonly request: RequestHead;
  /** The subprotocols the client offered, in its order. */
  readonly protocols: string[];

  readonly #init: TestHandshakeInit;
  #state: TestHandshakeState = 'pending';
  readonly #settled: Promise<void>;
  #settle!: () => void;

  /** @internal Created by {@link TestServer}. */
  constructor(init: TestHandshakeInit) {
    this.#init = init;
    this.url = init.url;
    this.request = init.request;
    const field = init.request.headers.get('sec-websocket-protocol');
    let offered: string[] = [];
    try {
      offered = field === undefined ? [] : parseProtocolHeader(field);
    } catch {
      offered = [];
    }
    this.protocols = offered;
    this.#settled = new Promise((resolve) => (this.#settle = resolve));
  }

  /** `'pending'` until answered or dropped. */
  get state(): TestHandshakeState {
    return this.#state;
  }

  /** The request's `Origin`, if it sent one. */
  get origin(): string | undefined {
    return this.request.headers.get('origin');
  }

  /** The request's header fields, by lower-case name. */
  get headers(): ReadonlyMap<string, string> {
    return this.request.headers;
  }

  /** @internal Resolves once answered or dropped. */
  get settled(): Promise<void> {
    return this.#settled;
  }

  /**
   * Accepts: validates the request (RFC 6455 §4.2.1) with the codec, writes the 101
   * response and opens the connection.
   * @returns the connection (rejects, after answering 400/426, if the request is invalid)
   * @throws Error (rejects) if the handshake was already answered
   */
  async accept(options: AcceptOptions = {}): Promise<TestConnection> {
    this.#take('accepted');
    const { writer } = this.#init;
    const chosen = options.protocol === undefined ? this.#init.selectProtocol([...this.protocols], this) : options.protocol;
    try {
      const accepted = await track(
        acceptUpgrade(this.request, {
          handleProtocols: () => chosen,
          headers: options.headers,
        }),
      );
      noteActivity();
      const written = writer.write(encodeUtf8(accepted.response));
      // The client now checks the answer (Web Crypto): flush() waits for it.
      void track(this.#init.clientHandshake);
      await written;
      return this.#init.open(this, accepted.protocol, '');
    } catch (error) {
      const status = typeof (error as { status?: unknown }).status === 'number' ? (error as { status: number }).status : 500;
      this.#answerAndClose(encodeUtf8(buildRejection(status)));
      throw error;
    } finally {
      this.#settle();
    }
  }

  /**
   * Refuses with an HTTP status (default 403) and closes the connection: the client fails
   * (its `WebSocket` fires error, then close with 1006).
   * @throws Error if the handshake was already answered
   */
  reject(status = 403, options: RejectOptions = {}): void {
    this.#take('rejected');
    this.#answerAndClose(encodeUtf8(buildRejection(status, options.headers, options.body ?? '')));
    this.#settle();
    void track(this.#init.clientHandshake);
  }

  /**
   * Answers with these bytes as they are, then closes: for a broken response (a wrong
   * `Sec-WebSocket-Accept`, a subprotocol never offered, a truncated head…). A string is
   * taken as bytes, one per character (U+0000–U+00FF), as an HTTP head is.
   * @throws Error if the handshake was already answered
   */
  respondRaw(bytes: Uint8Array | string): void {
    this.#take('rejected');
    this.#answerAndClose(typeof bytes === 'string' ? binaryString(bytes) : bytes.slice());
    this.#settle();
    void track(this.#init.clientHandshake);
  }

  /** Drops the connection without answering, as a server that goes away would. */
  drop(): void {
    if (this.#state !== 'pending') return;
    this.#state = 'dropped';
    noteActivity();
    const reason = new TypeError('the server dropped the connection');
    this.#init.writer.abort(reason).catch(ignore);
    this.#init.reader.cancel(reason).catch(ignore);
    this.#settle();
  }

  #take(state: TestHandshakeState): void {
    if (this.#state !== 'pending') throw new Error(`The handshake was already ${this.#state}`);
    this.#state = state;
    noteActivity();
  }

  /** Writes a last answer, closes the writing side after it, then stops reading. */
  #answerAndClose(bytes: Uint8Array): void {
    const { reader, writer } = this.#init;
    writer.write(bytes).catch(ignore);
    writer.close().then(
      () => reader.cancel().catch(ignore),
      () => reader.cancel().catch(ignore),
    );
  }
}
