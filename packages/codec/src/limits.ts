/**
 * Receive limits and their defaults. A peer that exceeds one is failed with 1009
 * (RFC 6455 §7.4.1) before the excess is buffered, so memory stays bounded.
 * @module
 */

/** Limits on what a peer may make us buffer. */
export interface Limits {
  /** The largest payload of a single frame, in octets. Default 16 MiB. */
  maxPayload?: number;
  /** The largest message after reassembly of its fragments, in octets. Default 16 MiB. */
  maxMessage?: number;
  /** The most frames one message may be split into. Default 65536. */
  maxFragments?: number;
}

/** The defaults: generous enough for 16 MiB messages, small enough that a peer cannot exhaust memory. */
export const DEFAULT_LIMITS = {
  maxPayload: 16 * 1024 * 1024,
  maxMessage: 16 * 1024 * 1024,
  maxFragments: 65536,
} as const satisfies Required<Limits>;

/** Fills in defaults and checks that each limit is a positive integer (or Infinity). */
export function resolveLimits(limits: Limits | undefined): Required<Limits> {
  const out = {
    maxPayload: limits?.maxPayload ?? DEFAULT_LIMITS.maxPayload,
    maxMessage: limits?.maxMessage ?? DEFAULT_LIMITS.maxMessage,
    maxFragments: limits?.maxFragments ?? DEFAULT_LIMITS.maxFragments,
  };
  for (const [name, value] of Object.entries(out)) {
    if (!(value === Infinity || (Number.isInteger(value) && value > 0))) {
      throw new RangeError(`${name} must be a positive integer or Infinity, got ${String(value)}`);
    }
  }
  return out;
}
