/**
 * Where a server's accepted connections go: to a handler, or to whoever iterates the
 * server (`for await (const { connection, request } of server)`), and the set of open
 * connections.
 * @module
 */
import { CloseCode, type WebSocketConnection } from '@wsflow/codec';
import type { PendingConnection } from './conn_connection.ts';

/** A connection a server accepted, with the request that opened it. */
export interface AcceptedConnection {
  connection: WebSocketConnection;
  /** The upgrade request (`http:`/`https:` URL, as `Deno.serve` would give it). */
  request: Request;
}

/**
 * Handles each accepted connection. Set handlers or take `readable` synchronously (the
 * connection starts reading when this returns). A throw or a rejected promise closes the
 * connection with 1011 and is reported as uncaught (as Node reports it from a listener).
 */
export type ConnectionHandler = (connection: WebSocketConnection, request: Request) => void | Promise<void>;

interface Queued {
  accepted: AcceptedConnection;
  start(): void;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

function reportUncaught(error: unknown): void {
  if (typeof globalThis.reportError === 'function') globalThis.reportError(error);
  else queueMicrotask(() => {
    throw error;
  });
}

/**
 * Delivers accepted connections and tracks the open ones.
 *
 * @example
 * ```ts
 * const queue = new AcceptedQueue(undefined);
 * queue.deliver(pending, request);
 * for await (const { connection } of queue) connection.send('welcome');
 * ```
 */
export class AcceptedQueue implements AsyncIterable<AcceptedConnection> {
  readonly #handler: ConnectionHandler | undefined;
  readonly #connections = new Set<WebSocketConnection>();
  readonly #queue: Queued[] = [];
  readonly #waiters: Array<(result: IteratorResult<AcceptedConnection>) => void> = [];
  #ended = false;

  /** @param handler called with each connection; without one, iterate the queue */
  constructor(handler: ConnectionHandler | undefined) {
    this.#handler = handler;
  }

  /** The open connections (handshake done, not yet closed). */
  get connections(): ReadonlySet<WebSocketConnection> {
    return this.#connections;
  }

  /**
   * Takes a new connection: once the queue ended, it is started and closed with 1001 at
   * once; else it goes to the handler (and starts reading after it returns) or waits for
   * an iterator (not reading until taken).
   */
  deliver(pending: PendingConnection, request: Request): void {
    const { connection } = pending;
    if (this.#ended) {
      pending.start();
      connection.close({ closeCode: CloseCode.GoingAway });
      return;
    }
    this.#connections.add(connection);
    void connection.closed.then(() => this.#connections.delete(connection));
    const handler = this.#handler;
    if (handler !== undefined) this.#run(handler, pending, request);
    else this.#offer({ accepted: { connection, request }, start: pending.start });
  }

  /** Ends the iteration; connections still waiting to be taken are started (to be closed). */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const item of this.#queue.splice(0)) item.start();
    for (const waiter of this.#waiters.splice(0)) waiter({ value: undefined, done: true });
  }

  /**
   * The accepted connections, as they come; ends with {@link end}. Several iterators share
   * one queue (each connection goes to one of them).
   */
  [Symbol.asyncIterator](): AsyncIterator<AcceptedConnection> {
    return {
      next: (): Promise<IteratorResult<AcceptedConnection>> => {
        const item = this.#queue.shift();
        if (item !== undefined) {
          // Started after the taker's `await` resumed, so it can set handlers first.
          setTimeout(item.start, 0);
          return Promise.resolve({ value: item.accepted, done: false });
        }
        if (this.#ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.#waiters.push(resolve));
      },
      return: (): Promise<IteratorResult<AcceptedConnection>> => Promise.resolve({ value: undefined, done: true }),
    };
  }

  #run(handler: ConnectionHandler, pending: PendingConnection, request: Request): void {
    const { connection } = pending;
    let result: void | Promise<void>;
    try {
      result = handler(connection, request);
    } catch (error) {
      pending.start();
      connection.close({ closeCode: CloseCode.InternalError });
      reportUncaught(error);
      return;
    }
    pending.start();
    if (isPromiseLike(result)) {
      void result.then(undefined, (error: unknown) => {
        connection.close({ closeCode: CloseCode.InternalError });
        reportUncaught(error);
      });
    }
  }

  #offer(item: Queued): void {
    const waiter = this.#waiters.shift();
    if (waiter === undefined) {
      this.#queue.push(item);
      return;
    }
    waiter({ value: item.accepted, done: false });
    setTimeout(item.start, 0);
  }
}
