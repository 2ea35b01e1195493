/**
 * How Bun connections turn the shared {@link ConnectionSettings} (defined once in
 * `@wsflow/codec`, with the same names and defaults as on Node and Deno) into the codec's
 * {@link ConnectionOptions}: Bun's unref'd timers.
 * @module
 */
import { zlibEngine } from '@wsflow/deflate-zlib';
import { connectionOptionsOf, type ConnectionOptions, type DeflateAgreement, type ConnectionSettings, type Role } from '@wsflow/codec';
import { bunTimers } from './bun_timers.ts';

export { checkTimeout, DEFAULT_HANDSHAKE_TIMEOUT, type ConnectionSettings } from '@wsflow/codec';

/** The DEFLATE engine permessage-deflate uses unless the settings name another: `node:zlib`. */
export { zlibEngine as defaultDeflateEngine } from '@wsflow/deflate-zlib';

/**
 * The codec options for one connection: the settings, the role, what was negotiated, Bun
 * timers, and `mutableInput` (Bun hands every read over in a fresh buffer, so masked
 * payloads are unmasked in place).
 * @example
 * ```ts
 * new WebSocketConnection(transport, connectionOptions(settings, 'server', 'chat'));
 * ```
 */
export function connectionOptions(
  settings: ConnectionSettings,
  role: Role,
  protocol: string,
  extensions = '',
  deflateAgreement?: DeflateAgreement | null,
): ConnectionOptions {
  return connectionOptionsOf(settings, { role, protocol, extensions, timers: bunTimers, mutableInput: true, deflateEngine: zlibEngine, deflateAgreement });
}
