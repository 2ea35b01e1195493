/**
 * `WebSocketError` (WebSockets Standard, "The WebSocketError interface"): the error a
 * `WebSocketStream` rejects and errors its streams with, and the reason to pass to
 * `readable.cancel()` or `writable.abort()` to close with a code and reason.
 * @module
 */
import { validateCloseCodeAndReason } from './close_validation.ts';
import { toCloseInfo, type WebSocketCloseInfo } from './websocket_close_info.ts';
import { toDOMString } from './webidl.ts';
import { applyInterfaceShape } from './webidl_interface.ts';

/** Set while the facade creates an error whose code the constructor would refuse (1006). */
let unvalidated: { closeCode: number | null; reason: string } | null = null;

/**
 * A `DOMException` named `"WebSocketError"` that carries a close code and reason.
 *
 * @example
 * ```ts
 * const { readable, writable } = await wss.opened;
 * await writable.abort(new WebSocketError('done', { closeCode: 4000, reason: 'bye' }));
 * // the Close frame carries 4000 "bye"
 *
 * try { await wss.closed; } catch (error) {
 *   if (error instanceof WebSocketError) console.log(error.closeCode); // 1006 on a dropped connection
 * }
 * ```
 */
export class WebSocketError extends DOMException {
  /** `"WebSocketError"`: the class string (a data property of the prototype, as Web IDL defines it). */
  declare readonly [Symbol.toStringTag]: string;
  readonly #closeCode: number | null;
  readonly #reason: string;

  /**
   * @param message the error's message
   * @param init `closeCode` (1000 or 3000–4999) and `reason` (at most 123 UTF-8 bytes)
   * @throws {DOMException} "InvalidAccessError" for another code, "SyntaxError" for a longer reason
   * @throws {TypeError} for a code outside 0–65535 or not a finite number
   */
  constructor(message: string = '', init: WebSocketCloseInfo = {}) {
    // 1. Set this's name to "WebSocketError". 2. Set this's message to message.
    super(toDOMString(message), 'WebSocketError');
    if (unvalidated !== null) {
      this.#closeCode = unvalidated.closeCode;
      this.#reason = unvalidated.reason;
      return;
    }
    const info = toCloseInfo(init);
    // 3. Let code be init["closeCode"] if it exists, or null otherwise.
    let code = info.closeCode ?? null;
    // 4. Let reason be init["reason"] if it exists, or the empty string otherwise.
    const reason = info.reason;
    // 5. Validate close code and reason with code and reason.
    validateCloseCodeAndReason(code, reason);
    // 6. If reason is non-empty, but code is not set, then set code to 1000 ("Normal Closure").
    if (reason !== '' && code === null) code = 1000;
    // 7. Set this's closeCode to code. 8. Set this's reason to reason.
    this.#closeCode = code;
    this.#reason = reason;
  }

  /** The close code, or null. */
  get closeCode(): number | null {
    return this.#closeCode;
  }

  /** The close reason, possibly empty. */
  get reason(): string {
    return this.#reason;
  }
}

// Web IDL: attributes are enumerable accessors of the prototype; the class string is its own.
applyInterfaceShape(WebSocketError, 'WebSocketError');

/**
 * Creates a {@link WebSocketError} without validating the code: the facade reports what
 * the connection ended with, 1006 included ("Let error be a new WebSocketError whose
 * closeCode is code and reason is reason").
 */
export function createWebSocketError(message: string, closeCode: number | null, reason: string): WebSocketError {
  unvalidated = { closeCode, reason };
  try {
    return new WebSocketError(message);
  } finally {
    unvalidated = null;
  }
}
