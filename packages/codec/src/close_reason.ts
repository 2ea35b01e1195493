/**
 * The one place where a failure becomes the reason text of the Close we send.
 * @module
 */
import { CloseCode, MAX_CLOSE_REASON } from './constants.ts';
import type { ProtocolError } from './errors.ts';
import { utf8Encoder } from './utf8.ts';

/**
 * The reason to send when failing with `error`: the peer's own violation is named
 * (it helps whoever debugs the peer), an internal error (1011) says nothing more.
 * Truncated to fit a control frame on a code-point boundary.
 */
export function closeReasonFor(error: ProtocolError): string {
  if (error.closeCode === CloseCode.InternalError) return '';
  let reason = error.message;
  while (utf8Encoder.encode(reason).length > MAX_CLOSE_REASON) reason = reason.slice(0, -1);
  // A lone high surrogate left by slicing would be sent as U+FFFD; drop it.
  if (/[\uD800-\uDBFF]$/.test(reason)) reason = reason.slice(0, -1);
  return reason;
}
