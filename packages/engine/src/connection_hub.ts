/**
 * The accepted-connection hub of a server: the set of open connections, delivery to the
 * handler (under the error policy) or to whoever iterates the server, and the end of
 * delivery at shutdown.
 * @module
 */
import { CloseCode, serializeClosePayload, type CloseOptions, type WebSocketConnection } from '@wsflow/codec';
import { isPromiseLike } from './error_policy.ts';
import type { PendingConnection } from './pending_connection.ts';
import type { ErrorContext } from './server_options.ts';

import type { ServerConnection } from './server_connection.ts';

/**
 * Who a connection came from, for error reports: read only when a report is made (a
 * socket's address costs a system call on Node, which most connections never need).
 */
export interface Peer {
  readonly remoteAddress: string | undefined;
}

/** A connection a server accepted, with the request that opened it. */
export interface AcceptedConnection<R = Request, C extends WebSocketConnection = ServerConnection> {
  connection: C;
  request: R;
}

interface Queued<R, C extends WebSocketConnection> {
  accepted: AcceptedConnection<R, C>;
  start(): void;
}

/**
 * Delivers accepted connections. With a handler each goes to it (a throw or rejection
 * closes that connection with 1011 and is reported); without one they queue for the async
 * iterator, not reading until taken.
 *
 * @example
 * ```ts
 * const hub = new ConnectionHub(handler, report, (start) => setTimeout(start, 0));
 * hub.deliver(pending, request, socket);
 * ```
 */
export class ConnectionHub<R = Request, C extends WebSocketConnection = WebSocketConnection> implements AsyncIterable<AcceptedConnection<R, C>> {
  readonly #handler: ((connection: C, request: R) => unknown) | undefined;
  readonly #report: (error: unknown, context: ErrorContext) => void;
  readonly #later: (callback: () => void) => void;
  readonly #connections = new Set<C>();
  readonly #queue: Queued<R, C>[] = [];
  readonly #waiters: Array<(result: IteratorResult<AcceptedConnection<R, C>>) => void> = [];
  #ended = false;

  /**
   * The owner calls {@link forget} for every connection that finishes (from its
   * `onFinished`), so no `closed` promise is needed per connection to keep the set.
   */
  constructor(
    handler: ((connection: C, request: R) => unknown) | undefined,
    report: (error: unknown, context: ErrorContext) => void,
    later: (callback: () => void) => void,
  ) {
    this.#handler = handler;
    this.#report = report;
    this.#later = later;
  }

  /**
   * Counts a connection among the open ones (closed at shutdown) until the owner calls
   * {@link forget}: one {@link deliver} hands over, or one its owner hands over itself.
   */
  adopt(connection: C): void {
    this.#connections.add(connection);
  }

  /** A connection finished: it leaves the set of open connections. */
  forget(connection: WebSocketConnection): void {
    this.#connections.delete(connection as C);
  }

  /** The open connections. */
  get connections(): ReadonlySet<C> {
    return this.#connections;
  }

  /** Whether delivery ended ({@link end}). */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Hands over a connection: to the handler, or to the iteration queue. `request` builds
   * the request on first use: for a handler only when it declares a second parameter, for
   * the iteration when its `request` is read.
   */
  deliver(pending: PendingConnection<C>, request: () => R, peer: Peer): void {
    const { connection } = pending;
    if (this.#ended) {
      // Accepted while shutting down: say so at once.
      this.#start(pending, peer);
      connection.close({ closeCode: CloseCode.GoingAway });
      return;
    }
    this.adopt(connection);
    const handler = this.#handler;
    if (handler === undefined) {
      this.#offer({ accepted: lazyAccepted(connection, request), start: () => this.#start(pending, peer) });
      return;
    }
    let result: unknown;
    try {
      // A handler declared with the connection alone never needs the request built (one
      // with a rest parameter, length 0, gets it).
      result = handler.length === 1 ? handler(connection, undefined as R) : handler(connection, request());
    } catch (error) {
      this.#start(pending, peer);
      this.#failed(connection, error, peer);
      return;
    }
    this.#start(pending, peer);
    if (isPromiseLike(result)) {
      result.then(undefined, (error: unknown) => this.#failed(connection, error, peer));
    }
  }

  /**
   * Shuts down: checks the close code first (nothing is done if it may not be sent), calls
   * `stopAccepting` (the owner drops handshakes under way), ends delivery, and closes every
   * open connection with it (default 1001 Going Away). Resolves once all are closed (each
   * within its `closeTimeout`).
   * @throws RangeError for a close code that may not be sent
   */
  closeAll(options: CloseOptions, stopAccepting: () => void): Promise<void> {
    const closeCode = options.closeCode ?? CloseCode.GoingAway;
    const reason = options.reason ?? '';
    serializeClosePayload(closeCode, reason); // throws before anything was closed
    const open = [...this.#connections];
    stopAccepting();
    this.end();
    for (const connection of open) connection.close({ closeCode, reason });
    return Promise.all(open.map((connection) => connection.closed)).then(() => undefined);
  }

  /** Ends delivery: queued connections start (to be closed by the caller), iterations end. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const item of this.#queue.splice(0)) item.start();
    for (const waiter of this.#waiters.splice(0)) waiter({ value: undefined, done: true });
  }

  /**
   * The accepted connections, as they come; ends with the server. Several iterators share
   * one queue (each connection goes to one of them). A connection starts reading in the
   * macrotask after it is taken, so the taker can set its handlers first.
   */
  [Symbol.asyncIterator](): AsyncIterator<AcceptedConnection<R, C>> {
    return {
      next: (): Promise<IteratorResult<AcceptedConnection<R, C>>> => {
        const item = this.#queue.shift();
        if (item !== undefined) {
          this.#later(item.start);
          return Promise.resolve({ value: item.accepted, done: false });
        }
        if (this.#ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.#waiters.push(resolve));
      },
      return: (): Promise<IteratorResult<AcceptedConnection<R, C>>> => Promise.resolve({ value: undefined, done: true }),
    };
  }

  #offer(item: Queued<R, C>): void {
    const waiter = this.#waiters.shift();
    if (waiter === undefined) {
      this.#queue.push(item);
      return;
    }
    waiter({ value: item.accepted, done: false });
    this.#later(item.start);
  }

  /** Starts reading; early frames fed now run the user's callbacks under the connection's own policy. */
  #start(pending: PendingConnection<C>, peer: Peer): void {
    try {
      pending.start();
    } catch (error) {
      this.#failed(pending.connection, error, peer);
    }
  }

  #failed(connection: WebSocketConnection, error: unknown, peer: Peer): void {
    if (connection.state === 'open') connection.close({ closeCode: CloseCode.InternalError });
    this.#report(error, { source: 'handler', remoteAddress: peer.remoteAddress, connection });
  }
}

/** An accepted connection whose `request` is built when first read. */
function lazyAccepted<R, C extends WebSocketConnection>(connection: C, request: () => R): AcceptedConnection<R, C> {
  let built: { value: R } | undefined;
  return {
    connection,
    get request(): R {
      built ??= { value: request() };
      return built.value;
    },
  };
}
