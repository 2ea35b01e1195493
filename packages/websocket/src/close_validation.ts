/**
 * "Validate close code and reason" (WebSockets Standard), shared by `WebSocket#close`,
 * `WebSocketStream#close` and the `WebSocketError` constructor.
 * @module
 */
import { encodeUtf8, MAX_CLOSE_REASON } from '@wsflow/codec';

/**
 * Whether an application may send this close code: 1000, or 3000–4999.
 *
 * @example
 * ```ts
 * isApplicationCloseCode(4000); // true
 * isApplicationCloseCode(1001); // false: only the user agent sends it
 * ```
 */
export function isApplicationCloseCode(code: number): boolean {
  return code === 1000 || (code >= 3000 && code <= 4999);
}

/**
 * Validates close code and reason:
 *
 * 1. If code is not null, but is neither an integer equal to 1000 nor an integer in the
 *    range 3000 to 4999, inclusive, throw an "InvalidAccessError" DOMException.
 * 2. If reason is not null, then:
 *    1. Let reasonBytes be the result of UTF-8 encoding reason.
 *    2. If reasonBytes is longer than 123 bytes, then throw a "SyntaxError" DOMException.
 *
 * @throws {DOMException} "InvalidAccessError" or "SyntaxError"
 * @example
 * ```ts
 * validateCloseCodeAndReason(4000, 'bye');        // ok
 * validateCloseCodeAndReason(1001, null);          // throws InvalidAccessError
 * validateCloseCodeAndReason(null, 'x'.repeat(124)); // throws SyntaxError
 * ```
 */
export function validateCloseCodeAndReason(code: number | null, reason: string | null): void {
  // Step 1.
  if (code !== null && !isApplicationCloseCode(code)) {
    throw new DOMException(`The close code must be either 1000, or between 3000 and 4999. ${code} is neither.`, 'InvalidAccessError');
  }
  // Step 2.
  if (reason !== null && encodeUtf8(reason).length > MAX_CLOSE_REASON) {
    throw new DOMException(`The close reason must not be longer than ${MAX_CLOSE_REASON} UTF-8 bytes.`, 'SyntaxError');
  }
}
