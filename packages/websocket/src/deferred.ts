/**
 * A promise with its settling functions, for the `opened` and `closed` promises.
 * @module
 */

/** A promise and the functions that settle it. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
}

/**
 * Creates a {@link Deferred} whose promise is marked handled: `opened` and `closed` both
 * reject when a connection fails, and a program that only awaits one of them should not
 * see the other reported as an unhandled rejection.
 *
 * @example
 * ```ts
 * const closed = handledDeferred<void>();
 * closed.reject(new Error('x')); // no unhandled rejection
 * ```
 */
export function handledDeferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}
