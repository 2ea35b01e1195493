/**
 * How Deno connections turn the shared {@link ConnectionSettings} (defined once in
 * `@wsflow/codec`, with the same names and defaults as on Node and Bun) into the codec's
 * {@link ConnectionOptions}: Deno's unref'd timers.
 * @module
 */
import { zlibEngine } from '@wsflow/deflate-zlib';
import { connectionOptionsOf, type ConnectionOptions, type DeflateAgreement, type ConnectionSettings, type Role } from '@wsflow/codec';
import type { RuntimeAdapter } from '@wsflow/engine';
import { denoTimers } from './deno_timers.ts';

export { checkTimeout, DEFAULT_HANDSHAKE_TIMEOUT, type ConnectionSettings } from '@wsflow/codec';

/** The DEFLATE engine permessage-deflate uses unless the settings name another: `node:zlib`. */
export { zlibEngine as defaultDeflateEngine } from '@wsflow/deflate-zlib';

/**
 * The codec options for one connection: the settings, the role, what was negotiated, Deno
 * timers, and `mutableInput` (the transport reads into buffers it never reuses, so masked
 * payloads are unmasked in place).
 * @example
 * ```ts
 * new WebSocketConnection(transport, connectionOptions({ maxMessage: 1 << 20 }, 'server', 'chat'));
 * ```
 */
export function connectionOptions(
  settings: ConnectionSettings,
  role: Role,
  protocol: string,
  extensions = '',
  deflateAgreement?: DeflateAgreement | null,
): ConnectionOptions {
  return connectionOptionsOf(settings, { role, protocol, extensions, timers: denoTimers, mutableInput: true, deflateEngine: zlibEngine, deflateAgreement });
}

/** What the engines need of Deno besides sockets. */
export const denoAdapter: RuntimeAdapter = {
  timers: denoTimers,
  deflateEngine: zlibEngine,
  mutableInput: true,
  later: (callback) => void setTimeout(callback, 0),
};
