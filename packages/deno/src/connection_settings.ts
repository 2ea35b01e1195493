/**
 * The settings every Deno connection takes, server or client side (the same names and
 * defaults as `@wsflow/node`), and how they become the codec's {@link ConnectionOptions}.
 * @module
 */
import type { ConnectionOptions, HeartbeatOptions, Limits, Role } from '@wsflow/codec';
import { denoTimers } from './deno_timers.ts';

/** Default milliseconds an opening handshake may take. */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

/**
 * Limits and timers of a connection. Every one has a safe default.
 *
 * @example
 * ```ts
 * const settings: ConnectionSettings = { maxMessage: 1 << 20, heartbeat: { interval: 30_000 } };
 * ```
 */
export interface ConnectionSettings extends Limits {
  /**
   * Milliseconds the opening handshake may take before the socket is dropped. Default 10 000.
   * Client: dialing, proxy tunnel, TLS and the 101. Server: reading the request head, the
   * `authorize` hook and the 101.
   */
  handshakeTimeout?: number;
  /** Milliseconds to wait for the peer's Close after ours before dropping the socket. Default 5000. */
  closeTimeout?: number;
  /** Pings to detect dead peers: one every `interval` ms, dropped after `timeout` ms of silence. Default off. */
  heartbeat?: HeartbeatOptions | false;
  /** Messages `readable` buffers before reading from the socket pauses. Default 16. */
  readableHighWaterMark?: number;
  /** Queued bytes above which a `writable` write waits for the socket to drain. Default 1 MiB. */
  writableHighWaterMark?: number;
}

/**
 * Checks a timeout option: a positive finite number of milliseconds.
 * @throws RangeError naming the option
 * @example
 * ```ts
 * checkTimeout('handshakeTimeout', undefined, 10_000); // 10000
 * ```
 */
export function checkTimeout(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number of milliseconds, got ${String(value)}`);
  }
  return value;
}

/**
 * The codec options for one connection: the settings, the role, what was negotiated, Deno
 * timers, and `mutableInput` (the transport reads into buffers it never reuses, so masked
 * payloads are unmasked in place).
 * @example
 * ```ts
 * new WebSocketConnection(transport, connectionOptions({ maxMessage: 1 << 20 }, 'server', 'chat'));
 * ```
 */
export function connectionOptions(settings: ConnectionSettings, role: Role, protocol: string, extensions = ''): ConnectionOptions {
  return {
    role,
    protocol,
    extensions,
    timers: denoTimers,
    mutableInput: true,
    maxPayload: settings.maxPayload,
    maxMessage: settings.maxMessage,
    maxFragments: settings.maxFragments,
    closeTimeout: settings.closeTimeout,
    heartbeat: settings.heartbeat,
    readableHighWaterMark: settings.readableHighWaterMark,
    writableHighWaterMark: settings.writableHighWaterMark,
  };
}
