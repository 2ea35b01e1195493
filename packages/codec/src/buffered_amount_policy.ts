/**
 * The write-buffer limit of a connection: a peer that never reads must not make us buffer
 * without bound. Past `maxBufferedAmount` queued bytes, the connection either starts the
 * closing handshake with 1008 (Policy Violation, RFC 6455 §7.4.1) or drops the transport
 * at once, and tells its user with a {@link BufferedAmountError}.
 * @module
 */
import { CloseCode, type Role } from './constants.ts';
import { DEFAULT_LIMITS } from './limits.ts';

/**
 * What the default `maxBufferedAmount` of a server is made of (RFC 6455 §10.4 leaves such
 * limits to implementations). Bun's server stops taking sends once 16 MiB are queued (its
 * `backpressureLimit`), but takes one more message when under it, so up to 16 MiB plus one
 * message are queued there. wsflow checks after the send, so the same room is 16 MiB of
 * backlog plus one message as large as the largest the connection accepts (`maxMessage`):
 * an echo server never trips it by echoing. With the default `maxMessage` (16 MiB) that is
 * 32 MiB, 32 times the `writable` high-water mark (1 MiB): a sender that honours
 * backpressure never comes near it.
 */
export const SERVER_BUFFERED_AMOUNT = {
  /** Bytes of backlog on top of one largest message: Bun's `backpressureLimit`, 16 MiB. */
  backlog: 16 * 1024 * 1024,
} as const;

/**
 * The `maxBufferedAmount` a connection gets when none is given:
 * - a server: {@link SERVER_BUFFERED_AMOUNT}'s 16 MiB of backlog plus `maxMessage` (32 MiB
 *   with the default 16 MiB; a `maxMessage` of `Infinity` counts as the default 16 MiB), so
 *   a peer that never reads cannot make it hold more;
 * - a client: no limit (`Infinity`), so that a client, and the WHATWG `WebSocket` facade
 *   whose `send` never fails for buffering, keep the WHATWG meaning of `send`.
 *
 * @example
 * ```ts
 * defaultMaxBufferedAmount('server');           // 33554432 (32 MiB)
 * defaultMaxBufferedAmount('server', 64 << 20); // 83886080 (80 MiB: the echo tool's)
 * defaultMaxBufferedAmount('client');           // Infinity
 * ```
 */
export function defaultMaxBufferedAmount(role: Role, maxMessage: number = DEFAULT_LIMITS.maxMessage): number {
  if (role !== 'server') return Infinity;
  const message = typeof maxMessage === 'number' && Number.isFinite(maxMessage) && maxMessage > 0 ? maxMessage : DEFAULT_LIMITS.maxMessage;
  return SERVER_BUFFERED_AMOUNT.backlog + message;
}

/**
 * What a connection does when a send makes its `bufferedAmount` exceed `maxBufferedAmount`:
 * - `'close'`: queues a Close with 1008 (Policy Violation) behind the data already
 *   accepted, so a peer that is only slow still gets every message, then the Close; one
 *   that still does not read is dropped by the close timeout (`closed` then says 1006).
 * - `'drop'`: destroys the transport at once, dropping what is queued (`closed` says 1006).
 */
export type BufferedAmountPolicy = 'close' | 'drop';

/** The write-buffer limit options of a connection (the same names and defaults on every runtime). */
export interface BufferedAmountLimit {
  /**
   * Bytes accepted by `send` but not yet handed to the operating system (`bufferedAmount`)
   * above which the connection applies {@link bufferedAmountPolicy}. Checked after each
   * send, fragment and Ping, after each batch of automatic replies (Pongs) and of sends made
   * while handling received frames, and once sends queued behind a `Blob` went out (so the
   * Close never overtakes accepted data). A positive integer, or `Infinity` (no limit).
   * Default ({@link defaultMaxBufferedAmount}): for a server 16 MiB plus `maxMessage`
   * (32 MiB with the default `maxMessage`), so that a peer that never reads cannot make it
   * hold more; no limit for a client. The `writable` stream's
   * backpressure and `bufferedAmount` remain the tools of a well-behaved sender.
   */
  maxBufferedAmount?: number;
  /** What to do past `maxBufferedAmount`: `'close'` (1008, the default) or `'drop'` (1006). */
  bufferedAmountPolicy?: BufferedAmountPolicy;
}

/** The limit with its defaults filled in. */
export interface ResolvedBufferedAmountLimit {
  maxBufferedAmount: number;
  bufferedAmountPolicy: BufferedAmountPolicy;
}

/**
 * Checks the write-buffer limit options and fills in their defaults for `role` (default
 * `'client'`: no limit; `'server'`: {@link defaultMaxBufferedAmount} of `options.maxMessage`).
 * @throws {RangeError} for a `maxBufferedAmount` that is not a positive integer or
 *   `Infinity`, or a `bufferedAmountPolicy` other than `'close'` and `'drop'`
 * @example
 * ```ts
 * checkBufferedAmountLimit({ maxBufferedAmount: 8 << 20 }); // { maxBufferedAmount: 8388608, bufferedAmountPolicy: 'close' }
 * checkBufferedAmountLimit({}, 'server'); // { maxBufferedAmount: 33554432, bufferedAmountPolicy: 'close' }
 * checkBufferedAmountLimit({ bufferedAmountPolicy: 'ignore' as never }); // throws RangeError
 * ```
 */
export function checkBufferedAmountLimit(options: BufferedAmountLimit & { maxMessage?: number }, role: Role = 'client'): ResolvedBufferedAmountLimit {
  const max = options.maxBufferedAmount ?? defaultMaxBufferedAmount(role, options.maxMessage);
  if (!(max === Infinity || (typeof max === 'number' && Number.isInteger(max) && max > 0))) {
    throw new RangeError(`maxBufferedAmount must be a positive integer or Infinity, got ${String(max)}`);
  }
  const policy = options.bufferedAmountPolicy ?? 'close';
  if (policy !== 'close' && policy !== 'drop') {
    throw new RangeError(`bufferedAmountPolicy must be 'close' or 'drop', got ${String(policy)}`);
  }
  return { maxBufferedAmount: max, bufferedAmountPolicy: policy };
}

/**
 * Told to a connection's `onerror` when its `bufferedAmount` exceeded `maxBufferedAmount`:
 * the peer does not read what we send.
 *
 * @example
 * ```ts
 * conn.onerror = (error) => {
 *   if (error instanceof BufferedAmountError) log.warn(`slow consumer cut (${error.closeCode})`);
 * };
 * ```
 */
export class BufferedAmountError extends Error {
  /** A stable identifier. */
  readonly code = 'BUFFERED_AMOUNT_EXCEEDED';
  /** 1008 when the policy is `'close'` (the code sent), 1006 when it is `'drop'`. */
  readonly closeCode: number;
  /** The policy applied. */
  readonly policy: BufferedAmountPolicy;
  /** `bufferedAmount` when the limit was found exceeded. */
  readonly bufferedAmount: number;
  /** The limit. */
  readonly maxBufferedAmount: number;

  constructor(policy: BufferedAmountPolicy, bufferedAmount: number, maxBufferedAmount: number) {
    const closeCode = policy === 'close' ? CloseCode.PolicyViolation : CloseCode.Abnormal;
    super(
      `bufferedAmount (${bufferedAmount} bytes) exceeded maxBufferedAmount (${maxBufferedAmount} bytes): the peer does not read; ` +
        (policy === 'close' ? `closing with ${closeCode} (Policy Violation)` : `connection dropped (${closeCode})`),
    );
    this.name = 'BufferedAmountError';
    this.closeCode = closeCode;
    this.policy = policy;
    this.bufferedAmount = bufferedAmount;
    this.maxBufferedAmount = maxBufferedAmount;
  }
}
