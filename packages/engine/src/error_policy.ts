/**
 * The error policy of a server: user code that throws is the user's bug, never the
 * server's end. The connection concerned closes with 1011; the error goes to `onError`
 * (default: stderr, with the peer's address); every other connection carries on.
 * @module
 */
import type { ErrorContext, ServerOptions } from './server_options.ts';

/** Whether a value is a thenable (a handler's promise). */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** Reports on stderr: the default `onError`. */
export function defaultOnError(error: unknown, context: ErrorContext): void {
  const peer = context.remoteAddress === undefined ? '' : ` (peer ${context.remoteAddress})`;
  const closed = context.connection === undefined ? '' : '; the connection was closed with 1011';
  console.error(`wsflow: the ${context.source} threw${peer}${closed}:`, error);
}

/**
 * The reporter of a server: `options.onError`, or {@link defaultOnError}; a throw from
 * `onError` itself is reported on stderr, never rethrown.
 * @example
 * ```ts
 * const report = errorReporter(options);
 * report(error, { source: 'handler', remoteAddress });
 * ```
 */
export function errorReporter(options: Pick<ServerOptions, 'onError'>): (error: unknown, context: ErrorContext) => void {
  const onError = options.onError;
  if (onError === undefined) return defaultOnError;
  return (error, context) => {
    try {
      onError(error, context);
    } catch (failure) {
      console.error('wsflow: onError threw:', failure, 'while reporting:', error);
    }
  };
}
