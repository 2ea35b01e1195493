/**
 * How Bun connections turn the shared {@link ConnectionSettings} (defined once in
 * `@wsflow/codec`, with the same names and defaults as on Node and Deno) into the codec's
 * {@link ConnectionOptions}: Bun's unref'd timers.
 * @module
 */
import { zlibEngine } from '@wsflow/deflate-zlib';
import { connectionOptionsOf, type ConnectionOptions, type DeflateAgreement, type ConnectionSettings, type Role } from '@wsflow/codec';
import type { RuntimeAdapter } from '@wsflow/engine';
import { bunTimers, nextMacrotask } from './bun_timers.ts';
import { bunRuntime } from './bun_types.ts';

export { checkTimeout, DEFAULT_HANDSHAKE_TIMEOUT, type ConnectionSettings } from '@wsflow/codec';

/** The DEFLATE engine permessage-deflate uses unless the settings name another: `node:zlib`. */
export { zlibEngine as defaultDeflateEngine } from '@wsflow/deflate-zlib';

/**
 * The codec options for one connection: the settings, the role, what was negotiated, Bun
 * timers, `mutableInput` (Bun hands every read over in a fresh buffer, so masked
 * payloads are unmasked in place) and an allocator that does not zero the buffers the
 * codec fills (payloads joined from several reads, frames written).
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
  const options = connectionOptionsOf(settings, { role, protocol, extensions, timers: bunTimers, mutableInput: true, deflateEngine: zlibEngine, deflateAgreement });
  options.allocate = allocate;
  return options;
}

/**
 * The codec writes every octet of the buffers it allocates, so they need not be zeroed:
 * `Bun.allocUnsafe` from 64 octets up (measured with Bun 1.4: 1 MiB in 15 µs instead of
 * 41 µs, 64 KiB in 0.5 µs instead of 3 µs); below that a plain `Uint8Array` is as cheap.
 */
function allocate(size: number): Uint8Array {
  return size < 64 ? new Uint8Array(size) : (allocUnsafe ??= bunRuntime().allocUnsafe)(size);
}

let allocUnsafe: ((size: number) => Uint8Array) | undefined;

/** What the engines need of Bun besides sockets. */
export const bunAdapter: RuntimeAdapter = {
  timers: bunTimers,
  deflateEngine: zlibEngine,
  allocate,
  mutableInput: true,
  later: nextMacrotask,
};
