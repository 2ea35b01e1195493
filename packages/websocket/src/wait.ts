/**
 * Waits with a deadline for the test kit: every wait of a {@link TestServer} or
 * {@link TestConnection} (and the matchers of `@wsflow/testing`) gives up after a timeout
 * with a message naming what it waited for and what came instead, rather than leaving the
 * test runner to report a bare "Test timed out". The timer is the host's real
 * `setTimeout`, taken when this module loads, so a wait still ends under
 * `vi.useFakeTimers()` / `jest.useFakeTimers()` (installed later, they replace the global
 * only).
 * @module
 */

type SetTimeout = (callback: () => void, ms: number) => unknown;
type ClearTimeout = (handle: unknown) => void;

// Bound now: fake timers installed later replace the globals, not these.
const realSetTimeout: SetTimeout = globalThis.setTimeout.bind(globalThis) as SetTimeout;
const realClearTimeout: ClearTimeout = globalThis.clearTimeout.bind(globalThis) as ClearTimeout;

/** The host's own timers, unaffected by fake timers installed after the test kit loaded. */
export const realTimers: { setTimeout: SetTimeout; clearTimeout: ClearTimeout } = {
  setTimeout: realSetTimeout,
  clearTimeout: realClearTimeout,
};

/** Options of a wait. */
export interface WaitOptions {
  /** Milliseconds before the wait fails. Default: the server's `timeout` option, else {@link testKitDefaults}`.timeout`. */
  timeout?: number;
}

/** Settings every test server starts from; change them once (e.g. in a setup file). */
export const testKitDefaults: { timeout: number } = { timeout: 2000 };

/**
 * Sets the default timeout of every wait (`nextMessage`, `nextConnection`, `connected`,
 * `closed`, the matchers).
 * @throws {RangeError} for a timeout that is not a positive finite number
 * @example
 * ```ts
 * configureTestKit({ timeout: 500 });
 * ```
 */
export function configureTestKit(settings: { timeout?: number }): void {
  if (settings.timeout !== undefined) testKitDefaults.timeout = checkWaitTimeout(settings.timeout);
}

/** @throws {RangeError} unless a positive finite number of milliseconds */
export function checkWaitTimeout(timeout: unknown): number {
  if (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout)) {
    throw new RangeError(`a wait's timeout must be a positive number of milliseconds, got ${String(timeout)}`);
  }
  return timeout;
}

/**
 * The timeout (ms) of one wait: the wait's own `timeout` option (checked), else `fallback`
 * (a server's or connection's `timeout` option), else {@link testKitDefaults}`.timeout`.
 * @throws {RangeError} for a `timeout` option that is not a positive finite number
 * @example
 * ```ts
 * timeoutOf({}, 500); // 500
 * timeoutOf({ timeout: 100 }, 500); // 100
 * ```
 */
export function timeoutOf(options: WaitOptions, fallback?: number): number {
  return options.timeout !== undefined ? checkWaitTimeout(options.timeout) : (fallback ?? testKitDefaults.timeout);
}

/** The error of a wait that timed out. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
}

/**
 * Resolves as `promise` does, or rejects with a {@link WaitTimeoutError} whose message is
 * `describe(ms)` after `ms` real milliseconds.
 * @example
 * ```ts
 * await withTimeout(cursor.next(), 1000, (ms) => `no message within ${ms} ms`);
 * ```
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, describe: (ms: number) => string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = realSetTimeout(() => reject(new WaitTimeoutError(describe(ms))), ms);
    promise.then(
      (value) => {
        realClearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        realClearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** A short, quoted rendering of a message for a failure message. */
export function showMessage(message: unknown): string {
  if (typeof message === 'string') return JSON.stringify(message.length > 60 ? `${message.slice(0, 57)}...` : message);
  if (message instanceof Uint8Array) return `<${message.length} bytes>`;
  try {
    const json = JSON.stringify(message);
    return json === undefined ? String(message) : json.length > 60 ? `${json.slice(0, 57)}...` : json;
  } catch {
    return String(message);
  }
}

/** `2 messages: "a", "b"` (the last few only). */
export function showMessages(messages: readonly unknown[]): string {
  if (messages.length === 0) return 'none';
  const shown = messages.slice(-5).map(showMessage).join(', ');
  return `${messages.length} message${messages.length === 1 ? '' : 's'}: ${messages.length > 5 ? '..., ' : ''}${shown}`;
}
