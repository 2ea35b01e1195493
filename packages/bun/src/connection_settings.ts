/**
 * What the engines need of Bun besides sockets: unref'd timers, `node:zlib` for
 * permessage-deflate, unzeroed allocation, and reads handed over (`mutableInput`: Bun hands
 * every read over in a fresh buffer, so masked payloads are unmasked in place).
 * @module
 */
import { zlibEngine } from '@wsflow/deflate-zlib';
import type { RuntimeAdapter } from '@wsflow/engine';
import { bunTimers, nextMacrotask } from './bun_timers.ts';
import { bunRuntime } from './bun_types.ts';

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
