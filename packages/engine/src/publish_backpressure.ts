/**
 * What a server does when a subscriber does not read what is published to it: a slow
 * subscriber must never hold back the publisher or the other subscribers. The same
 * vocabulary as the connection's own write-buffer limit (`maxBufferedAmount`,
 * `bufferedAmountPolicy`), applied per published message before it is queued.
 * @module
 */

/**
 * What a publish does for a subscriber whose `bufferedAmount` has reached the limit:
 * - `'skip'`: this subscriber does not get this message (counted in its `droppedMessages`
 *   and the server's `publishStats.skipped`); it gets later ones once it has read;
 * - `'close'`: the subscriber is closed with 1008 (Policy Violation), the Close queued behind
 *   what it was sent already (counted in `publishStats.closed`);
 * - `'queue'`: the message is queued whatever the backlog, like a `send`: the connection's
 *   `maxBufferedAmount` and `bufferedAmountPolicy` then bound it (`limit` is not used).
 */
export type PublishBackpressurePolicy = 'skip' | 'close' | 'queue';

/** The `publishBackpressure` server option. */
export interface PublishBackpressure {
  /**
   * Bytes of a subscriber's `bufferedAmount` from which `policy` applies to a published
   * message (checked before each one is queued: under it, one more message is queued
   * whatever its size). A positive integer or `Infinity`. Default 16 MiB.
   */
  limit?: number;
  /** What to do from `limit` on. Default `'skip'`. */
  policy?: PublishBackpressurePolicy;
}

/**
 * The defaults of {@link PublishBackpressure}: skip a message for a subscriber that has
 * 16 MiB not yet read. 16 MiB is Bun's `backpressureLimit`, from which Bun drops published
 * messages for a subscriber too. Skipping, not closing: in fan-out (tickers, presence,
 * chat rooms) a subscriber that falls behind is usually better served by missing messages
 * than by losing its connection, and it costs the server nothing more than the limit. It
 * is half the server's default `maxBufferedAmount` (16 MiB plus `maxMessage`), so
 * published messages alone never trip the connection's own close policy.
 * @example
 * ```ts
 * serve({ publishBackpressure: { limit: DEFAULT_PUBLISH_BACKPRESSURE.limit / 4 }, handler });
 * ```
 */
export const DEFAULT_PUBLISH_BACKPRESSURE = {
  /** 16 MiB, as Bun's `backpressureLimit`. */
  limit: 16 * 1024 * 1024,
  policy: 'skip',
} as const;

/** {@link PublishBackpressure} with its defaults filled in. */
export interface ResolvedPublishBackpressure {
  readonly limit: number;
  readonly policy: PublishBackpressurePolicy;
}

/**
 * Checks the `publishBackpressure` option and fills in its defaults.
 * @throws TypeError when it is not an object; RangeError for a `limit` that is not a
 *   positive integer or `Infinity`, or an unknown `policy`
 * @example
 * ```ts
 * checkPublishBackpressure(undefined);                         // { limit: 16777216, policy: 'skip' }
 * checkPublishBackpressure({ limit: 1 << 20, policy: 'close' }); // { limit: 1048576, policy: 'close' }
 * ```
 */
export function checkPublishBackpressure(value: PublishBackpressure | undefined): ResolvedPublishBackpressure {
  if (value === undefined) return DEFAULT_PUBLISH_BACKPRESSURE;
  if (typeof value !== 'object' || value === null) throw new TypeError('option "publishBackpressure" must be an object');
  for (const name of Object.keys(value)) {
    if (name !== 'limit' && name !== 'policy') throw new TypeError(`option "publishBackpressure" has no "${name}" (it has "limit" and "policy")`);
  }
  const limit = value.limit ?? DEFAULT_PUBLISH_BACKPRESSURE.limit;
  if (!(limit === Infinity || (typeof limit === 'number' && Number.isInteger(limit) && limit > 0))) {
    throw new RangeError(`publishBackpressure.limit must be a positive integer or Infinity, got ${String(limit)}`);
  }
  const policy = value.policy ?? DEFAULT_PUBLISH_BACKPRESSURE.policy;
  if (policy !== 'skip' && policy !== 'close' && policy !== 'queue') {
    throw new RangeError(`publishBackpressure.policy must be 'skip', 'close' or 'queue', got ${String(policy)}`);
  }
  return { limit, policy };
}
