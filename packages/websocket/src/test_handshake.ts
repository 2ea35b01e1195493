/**
 * One opening handshake arriving at a {@link TestServer}, before it is answered: accept
 * it (choosing the subprotocol), reject it with an HTTP status, answer it with raw bytes,
 * drop it, or keep it waiting. Accepting and rejecting go through the server engine of
 * `@wsflow/engine`, as with `serve()`: its RFC 6455 checks, `allowedOrigins`,
 * `handleProtocols`, `authorize` and `onReject` apply.
 * @module
 */
import { headersOf, parseProtocolHeader, type RequestHead } from '@wsflow/codec';
import type { UpgradeRejection } from '@wsflow/engine';
import { noteActivity } from './activity.ts';
import { binaryString } from './binary_string.ts';
import type { TestConnection } from './test_connection.ts';

/** Where a handshake is. */
export type TestHandshakeState = 'pending' | 'accepted' | 'rejected' | 'dropped';

/** Options of {@link TestHandshake.accept}. */
export interface AcceptOptions {
  /**
   * The subprotocol to select: one the client offered, or null for none. Default: the
   * server's choice (its `handleProtocols`; without one, none — as `serve()`).
   */
  protocol?: string | null;
}

/** Options of {@link TestHandshake.reject}. */
export interface RejectOptions {
  /** Extra response fields. */
  headers?: UpgradeRejection['headers'];
  /** The response body. */
  body?: string;
}

/** How a handshake was answered, as the test server carries it out. */
export type HandshakeAnswer =
  | { kind: 'accept'; protocol: string | null | undefined }
  | { kind: 'reject'; rejection: UpgradeRejection }
  | { kind: 'raw'; bytes: Uint8Array }
  | { kind: 'drop' };

/** Internal wiring a {@link TestServer} passes in. */
export interface TestHandshakeInit {
  url: URL;
  head: RequestHead;
  request: Request;
  /** Carries the answer out; for an accept, resolves with the connection (rejects if the engine refused). */
  answer: (answer: HandshakeAnswer) => Promise<TestConnection> | void;
}

/**
 * A client's upgrade request waiting for the server's answer.
 *
 * @example
 * ```ts
 * const server = new TestServer('ws://example.test/', { autoAccept: false });
 * const ws = new WebSocket('ws://example.test/', ['v2', 'v1']);
 * const handshake = await server.nextHandshake();
 * handshake.protocols;               // ['v2', 'v1']
 * handshake.headers.get('origin');   // a WHATWG Headers
 * await handshake.accept({ protocol: 'v1' });
 * // or: handshake.reject(401, { headers: { 'WWW-Authenticate': 'Bearer' } });
 * ```
 */
export class TestHandshake {
  /** The URL the client requested (`ws:`/`wss:`), query included. */
  readonly url: URL;
  /** The request as a `serve()` handler gets it: a WHATWG `Request` (its URL `http:`/`https:`). */
  readonly request: Request;
  /** The request head as it arrived: method, target, version, raw header lines. */
  readonly head: RequestHead;
  /** The subprotocols the client offered, in its order. */
  readonly protocols: string[];
  /**
   * The request's header fields as sent, as a WHATWG `Headers` (`headers.get('origin')`):
   * all of them, where a browser's `Request` drops `Origin` and `Sec-*`.
   */
  readonly headers: Headers;

  readonly #init: TestHandshakeInit;
  #state: TestHandshakeState = 'pending';

  /** @internal Created by {@link TestServer}. */
  constructor(init: TestHandshakeInit) {
    this.#init = init;
    this.url = init.url;
    this.head = init.head;
    this.request = init.request;
    this.headers = headersOf(init.head.rawHeaders);
    const field = this.headers.get('sec-websocket-protocol');
    let offered: string[] = [];
    try {
      offered = field === null ? [] : parseProtocolHeader(field);
    } catch {
      offered = [];
    }
    this.protocols = offered;
  }

  /** `'pending'` until answered or dropped. */
  get state(): TestHandshakeState {
    return this.#state;
  }

  /** The request's `Origin`, if it sent one. */
  get origin(): string | undefined {
    return this.headers.get('origin') ?? undefined;
  }

  /**
   * Accepts: the engine validates the request (RFC 6455 §4.2.1) and the server's options,
   * writes the 101 response and opens the connection (the server's `handler` runs).
   * @returns the connection (rejects, after the engine answered 4xx/5xx, if it refused)
   * @throws Error (rejects) if the handshake was already answered
   */
  accept(options: AcceptOptions = {}): Promise<TestConnection> {
    try {
      this.#take('accepted');
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#init.answer({ kind: 'accept', protocol: options.protocol }) as Promise<TestConnection>;
  }

  /**
   * Refuses with an HTTP status (default 403), through the engine (as an `authorize` hook
   * refusing: `onReject` is told `REJECTED`): the client fails (its `WebSocket` fires
   * error, then close with 1006).
   * @throws Error if the handshake was already answered
   */
  reject(status = 403, options: RejectOptions = {}): void {
    this.#take('rejected');
    void this.#init.answer({ kind: 'reject', rejection: { status, headers: options.headers, body: options.body } });
  }

  /**
   * Answers with these bytes as they are, then closes: for a broken response (a wrong
   * `Sec-WebSocket-Accept`, a subprotocol never offered, a truncated head…). A string is
   * taken as bytes, one per character (U+0000–U+00FF), as an HTTP head is.
   * @throws Error if the handshake was already answered
   */
  respondRaw(bytes: Uint8Array | string): void {
    this.#take('rejected');
    void this.#init.answer({ kind: 'raw', bytes: typeof bytes === 'string' ? binaryString(bytes) : bytes.slice() });
  }

  /** Drops the connection without answering, as a server that goes away would. */
  drop(): void {
    if (this.#state !== 'pending') return;
    this.#state = 'dropped';
    noteActivity();
    void this.#init.answer({ kind: 'drop' });
  }

  #take(state: TestHandshakeState): void {
    if (this.#state !== 'pending') throw new Error(`The handshake was already ${this.#state}`);
    this.#state = state;
    noteActivity();
  }
}
