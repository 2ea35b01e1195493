/**
 * A cursor over an append-only list with timed waiters: the one way the test kit hands out
 * "the next message (connection, handshake) not yet taken", waiting for it if need be.
 * @module
 */
import { withTimeout } from './wait.ts';

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
}

/**
 * Reads an append-only list in order, each item once: {@link next} returns the next item
 * not yet returned, or waits (with a timeout) for it to be appended. The list's owner
 * appends to the list itself, then calls {@link added}; once no more items will come it
 * calls {@link close}, and a `next()` past the end rejects. The test kit's
 * `nextMessage`/`nextConnection`/`nextHandshake` are built on it.
 * @example
 * ```ts
 * const messages: string[] = [];
 * const cursor = new Cursor(messages);
 * const next = cursor.next(1000, (ms) => `no message within ${ms} ms`);
 * messages.push('hello');
 * cursor.added();
 * await next; // 'hello'
 * ```
 */
export class Cursor<T> {
  readonly #items: readonly T[];
  #position = 0;
  #waiters: Array<Waiter<T>> = [];
  #closed: (() => Error) | null = null;

  /** A cursor at the start of `items` (which its owner appends to). */
  constructor(items: readonly T[]) {
    this.#items = items;
  }

  /**
   * The next item, waiting at most `ms` real milliseconds for it.
   * @param describe names what was awaited, for the WaitTimeoutError's message
   * @throws (rejects) with a WaitTimeoutError after `ms`, or with the error of {@link close}
   *   when closed and every item was taken
   */
  next(ms: number, describe: (ms: number) => string): Promise<T> {
    if (this.#position < this.#items.length) return Promise.resolve(this.#items[this.#position++]);
    if (this.#closed !== null) return Promise.reject(this.#closed());
    let waiter!: Waiter<T>;
    const waiting = new Promise<T>((resolve, reject) => (waiter = { resolve, reject }));
    this.#waiters.push(waiter);
    return withTimeout(waiting, ms, (t) => {
      const at = this.#waiters.indexOf(waiter);
      if (at >= 0) this.#waiters.splice(at, 1);
      return describe(t);
    });
  }

  /** An item was appended to the list: the first waiter, if any, takes it. */
  added(): void {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve(this.#items[this.#position++]);
  }

  /** No more items will come: every waiter, and every later `next()` past the end, rejects with `error()`. */
  close(error: () => Error): void {
    this.#closed = error;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.reject(error());
  }
}
