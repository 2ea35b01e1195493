/**
 * Range checks for the parameters the codec hands an engine (RFC 7692 §7.1). A value out
 * of range is API misuse: a `RangeError` naming the parameter.
 * @module
 */

/** The smallest window raw DEFLATE in zlib (and so pako) accepts for compressing: 2**9 octets. */
export const MIN_DEFLATE_WINDOW_BITS = 9;

/**
 * Checks that `value` is an integer in `min..max`.
 * @throws RangeError naming `name` otherwise
 */
export function checkIntRange(name: string, value: number, min: number, max: number): void {
  if (!(Number.isInteger(value) && value >= min && value <= max)) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
}
