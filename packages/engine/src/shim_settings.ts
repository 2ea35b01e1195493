/**
 * The settings every runtime shim's connections take, server or client side (the same names
 * and defaults on Node, Deno and Bun), and how they become a {@link ConnectionOptions}.
 * @module
 */
import type { BufferedAmountLimit } from '@wsflow/codec';
import type { ConnectionOptions, HeartbeatOptions, Timers } from '@wsflow/codec';
import type { Role } from '@wsflow/codec';
import type { DeflateEngine } from '@wsflow/codec';
import { perMessageDeflateFor, resolveDeflate, type PerMessageDeflateSetting } from '@wsflow/codec';
import type { Limits } from '@wsflow/codec';
import type { DeflateAgreement } from '@wsflow/codec';

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
export interface ConnectionSettings extends Limits, BufferedAmountLimit {
  /**
   * Milliseconds the opening handshake may take before the socket is dropped. Default 10 000.
   * Client: dialing, proxy tunnel, TLS and the 101. Server: reading the request head (where
   * the shim reads it itself: Deno's and Bun's `serve`, Node's `serve`; with Node's `attach`
   * and `handleUpgrade` that phase is the host server's own `headersTimeout`), the
   * `authorize` hook and the 101 (and, on Deno and Bun, a plain HTTP fallback's answer).
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
  /**
   * permessage-deflate (RFC 7692). Default off. `true` turns it on with the defaults; an
   * object tunes it: the negotiation (`serverNoContextTakeover`, `clientNoContextTakeover`,
   * `serverMaxWindowBits`, `clientMaxWindowBits`), `threshold` (octets below which messages
   * go uncompressed, default 1024), `level` (default 6), `memLevel` (default 8) and the
   * `engine` (default: `node:zlib`). Inflated messages are limited by `maxMessage` (1009).
   */
  perMessageDeflate?: PerMessageDeflateSetting;
}

/**
 * Checks a timeout option: a positive finite number of milliseconds, or `fallback` when unset.
 * @throws {RangeError} naming the option, for anything else
 * @example
 * ```ts
 * checkTimeout('handshakeTimeout', undefined, DEFAULT_HANDSHAKE_TIMEOUT); // 10000
 * checkTimeout('handshakeTimeout', -1, DEFAULT_HANDSHAKE_TIMEOUT);        // throws RangeError
 * ```
 */
export function checkTimeout(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number of milliseconds, got ${String(value)}`);
  }
  return value;
}

/** What a shim knows of one connection besides its {@link ConnectionSettings}. */
export interface ConnectionInit {
  /** Which end this is. */
  role: Role;
  /** The negotiated subprotocol, `''` for none. */
  protocol: string;
  /** The negotiated extensions, as the `Sec-WebSocket-Extensions` value; default `''`. */
  extensions?: string;
  /** The runtime's timers (unref'd ones, so that no connection timer keeps a process alive). */
  timers: Timers;
  /** Whether the transport hands over read buffers nothing else holds (see {@link ConnectionOptions.mutableInput}). */
  mutableInput?: boolean;
  /** The shim's DEFLATE engine, used when `perMessageDeflate` names none. */
  deflateEngine?: DeflateEngine;
  /** The permessage-deflate agreement when already worked out (a client's, the `ClientHandshake` decision's `deflate`); else read from `extensions`. */
  deflateAgreement?: DeflateAgreement | null;
}

/**
 * The {@link ConnectionOptions} of one connection: the settings' limits and timers, plus what
 * the shim knows (role, what was negotiated, its timers).
 *
 * @example
 * ```ts
 * const options = connectionOptionsOf({ maxMessage: 1 << 20 }, { role: 'server', protocol: 'chat', timers, mutableInput: true });
 * new WebSocketConnection(transport, options);
 * ```
 */
export function connectionOptionsOf(settings: ConnectionSettings, init: ConnectionInit): ConnectionOptions {
  return {
    role: init.role,
    protocol: init.protocol,
    extensions: init.extensions ?? '',
    perMessageDeflate: perMessageDeflateFor(init.role, init.extensions ?? '', resolveDeflate(settings.perMessageDeflate, init.deflateEngine), init.deflateAgreement),
    timers: init.timers,
    mutableInput: init.mutableInput ?? false,
    maxPayload: settings.maxPayload,
    maxMessage: settings.maxMessage,
    maxFragments: settings.maxFragments,
    closeTimeout: settings.closeTimeout,
    heartbeat: settings.heartbeat,
    readableHighWaterMark: settings.readableHighWaterMark,
    writableHighWaterMark: settings.writableHighWaterMark,
    maxBufferedAmount: settings.maxBufferedAmount,
    bufferedAmountPolicy: settings.bufferedAmountPolicy,
  };
}
