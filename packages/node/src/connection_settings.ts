/**
 * How Node connections turn the shared {@link ConnectionSettings} (defined once in
 * `@wsflow/codec`) into the codec's {@link ConnectionOptions}: Node's unref'd timers.
 * @module
 */
import { zlibEngine } from '@wsflow/deflate-zlib';
import { type ConnectionOptions, type DeflateAgreement, type Role } from '@wsflow/codec';
import { connectionOptionsOf, type ConnectionSettings } from '@wsflow/engine';
import { createHash } from 'node:crypto';
import type { RuntimeAdapter } from '@wsflow/engine';
import { nodeTimers } from './node_timers.ts';

export { checkTimeout, DEFAULT_HANDSHAKE_TIMEOUT, type ConnectionSettings } from '@wsflow/engine';

/** The DEFLATE engine permessage-deflate uses unless the settings name another: `node:zlib`. */
export { zlibEngine as defaultDeflateEngine } from '@wsflow/deflate-zlib';

/**
 * The codec options for one connection: the settings, the role, what was negotiated, Node
 * timers, and `mutableInput` (every socket read is a fresh Buffer that nothing else holds:
 * masked payloads can be unmasked in place instead of copied).
 * @example
 * ```ts
 * new WebSocketConnection(new SocketTransport(socket), connectionOptions({ maxMessage: 1 << 20 }, 'server', 'chat'));
 * ```
 */
export function connectionOptions(
  settings: ConnectionSettings,
  role: Role,
  protocol: string,
  extensions = '',
  deflateAgreement?: DeflateAgreement | null,
): ConnectionOptions {
  return connectionOptionsOf(settings, { role, protocol, extensions, timers: nodeTimers, mutableInput: true, deflateEngine: zlibEngine, deflateAgreement });
}

/** Unzeroed allocation: every byte of the codec's buffers is written before use. */
const allocate = (size: number): Uint8Array => Buffer.allocUnsafe(size);

/** What the engines need of Node besides sockets. */
export const nodeAdapter: RuntimeAdapter = {
  timers: nodeTimers,
  deflateEngine: zlibEngine,
  sha1: (data) => createHash('sha1').update(data).digest(),
  allocate,
  mutableInput: true,
  later: setImmediate,
};
