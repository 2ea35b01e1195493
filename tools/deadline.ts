/**
 * Bounded waiting: every wait in the tools has a deadline, so that a silent peer costs a
 * timeout, never a hang.
 * @module
 */

/** What {@link withDeadline} resolves with when time ran out. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/**
 * Waits for `promise` until `ms` milliseconds have passed.
 * @returns the promise's value, or {@link TIMED_OUT}
 *
 * @example
 * ```ts
 * const info = await withDeadline(connection.closed, 5000);
 * if (info === TIMED_OUT) connection.abort();
 * ```
 */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, ms));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
