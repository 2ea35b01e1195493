/**
 * The write-buffer limit of a connection: a peer that never reads must not make us buffer
 * without bound. Past `maxBufferedAmount` queued bytes, the connection either starts the
 * closing handshake with 1008 (Policy Violation, RFC 6455 §7.4.1) or drops the transport
 * at once, and tells its user with a {@link BufferedAmountError}.
 * @module
 */
import { CloseCode, type Role } from './constants.ts';

const MiB = 1024 * 1024;

/**
 * The default `maxBufferedAmount` of each role. RFC 6455 §10.4 leaves such limits to
 * implementations; these are wsflow's:
 * - `server`: 32 MiB. Bun's server stops taking sends once 16 MiB are queued (its
 *   `backpressureLimit`), so a Bun server still accepts one more message of up to its
 *   16 MiB `maxPayloadLength` there: at most 32 MiB are queued. wsflow checks after the
 *   send, so 32 MiB is that same room: 16 MiB of backlog plus one message of the default
 *   `maxMessage` (16 MiB), so an echo of the largest message a server accepts by default
 *   never trips it. It is 32 times the `writable` high-water mark (1 MiB): a sender that
 *   honours backpressure never comes near it.
 * - `client`: no limit, so that a client (and the WHATWG `WebSocket` facade, whose `send`
 *   never fails for buffering) keeps the WHATWG meaning of `send` and `bufferedAmount`.
 */
export const DEFAULT_MAX_BUFFERED_AMOUNT = {
  server: 32 * MiB,
  client: Infinity,
} as const satisfies Record<Role, number>;

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
   * Default ({@link DEFAULT_MAX_BUFFERED_AMOUNT}): 32 MiB for a server, so that a peer that
   * never reads cannot hold more; no limit for a client. The `writable` stream's
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
 * `'client'`: no limit; `'server'`: {@link DEFAULT_MAX_BUFFERED_AMOUNT}).
 * @throws {RangeError} for a `maxBufferedAmount` that is not a positive integer or
 *   `Infinity`, or a `bufferedAmountPolicy` other than `'close'` and `'drop'`
 * @example
 * ```ts
 * checkBufferedAmountLimit({ maxBufferedAmount: 8 << 20 }); // { maxBufferedAmount: 8388608, bufferedAmountPolicy: 'close' }
 * checkBufferedAmountLimit({}, 'server'); // { maxBufferedAmount: 33554432, bufferedAmountPolicy: 'close' }
 * checkBufferedAmountLimit({ bufferedAmountPolicy: 'ignore' as never }); // throws RangeError
 * ```
 */
export function checkBufferedAmountLimit(options: BufferedAmountLimit, role: Role = 'client'): ResolvedBufferedAmountLimit {
  const max = options.maxBufferedAmount ?? DEFAULT_MAX_BUFFERED_AMOUNT[role];
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
