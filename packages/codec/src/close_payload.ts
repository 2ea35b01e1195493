/**
 * The Close frame's payload (RFC 6455 §5.5.1, §7.4): an optional 2-byte status code in
 * network byte order followed by an optional UTF-8 reason. Parse, serialize and check.
 * @module
 */
import { CloseCode, MAX_CLOSE_REASON } from './constants.ts';
import { ProtocolError } from './errors.ts';
import { decodeUtf8, encodeUtf8, isValidUtf8 } from './utf8.ts';

/** A parsed Close payload. `code` is 1005 when the frame carried no status code. */
export interface ClosePayload {
  readonly code: number;
  readonly reason: string;
}

/**
 * Whether `code` may appear in a Close frame on the wire (RFC 6455 §7.4.1, §7.4.2, and the
 * IANA registry): 1000–1003, 1007–1014, and 3000–4999. 1004, 1005, 1006 and 1015 are
 * reserved and never sent; 1016–2999 are unassigned; below 1000 and from 5000 are invalid.
 */
export function isValidCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  if (code >= 3000 && code <= 4999) return true;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

/**
 * Parses a received Close payload.
 * @throws ProtocolError 1002 for a 1-byte payload or an invalid code, 1007 for a reason that is not UTF-8
 *
 * @example
 * ```ts
 * parseClosePayload(new Uint8Array([0x03, 0xe8, 0x62, 0x79, 0x65])); // { code: 1000, reason: 'bye' }
 * parseClosePayload(new Uint8Array([]));                              // { code: 1005, reason: '' }
 * ```
 */
export function parseClosePayload(payload: Uint8Array): ClosePayload {
  if (payload.length === 0) return { code: CloseCode.NoStatusReceived, reason: '' };
  if (payload.length === 1) {
    throw new ProtocolError('INVALID_CLOSE_PAYLOAD', 'close payload of 1 byte (a status code needs 2)');
  }
  const code = (payload[0] << 8) | payload[1];
  if (!isValidCloseCode(code)) throw new ProtocolError('INVALID_CLOSE_CODE', `invalid close code ${code}`);
  const reason = payload.length > 2 ? decodeUtf8(payload.subarray(2)) : '';
  return { code, reason };
}

/**
 * The reason of a Close to send as UTF-8 octets. A string is encoded; a `Uint8Array` is
 * taken as the octets themselves (RFC 6455 §5.5.1: the reason is UTF-8 data), once checked.
 * @throws TypeError for a `Uint8Array` that is not UTF-8, or a reason that is neither
 */
export function closeReasonOctets(reason: string | Uint8Array): Uint8Array {
  if (typeof reason === 'string') return encodeUtf8(reason);
  if (reason instanceof Uint8Array) {
    if (!isValidUtf8(reason)) throw new TypeError('a close reason given as bytes must be UTF-8 (RFC 6455 §5.5.1)');
    return reason;
  }
  throw new TypeError(`a close reason must be a string or a Uint8Array of UTF-8, not ${reason === null ? 'null' : typeof reason}`);
}

/**
 * Serializes a Close payload to send. With no code the payload is empty (RFC 6455 §5.5.1).
 * The reason is a string, or its UTF-8 octets as a `Uint8Array` (sent as they are).
 * @throws RangeError for a code that may not be sent, TypeError for a reason without a code,
 *   TypeError for a reason that is neither a string nor a `Uint8Array` of UTF-8,
 *   RangeError for a reason over 123 UTF-8 bytes
 *
 * @example
 * ```ts
 * serializeClosePayload(1000, 'bye');                          // 03 e8 62 79 65
 * serializeClosePayload(1000, new Uint8Array([0x62, 0x79, 0x65])); // 03 e8 62 79 65
 * serializeClosePayload(1000, new Uint8Array([0xff]));         // throws TypeError
 * ```
 */
export function serializeClosePayload(code?: number, reason: string | Uint8Array = ''): Uint8Array {
  const text = closeReasonOctets(reason);
  if (code === undefined) {
    if (text.length !== 0) throw new TypeError('a close reason needs a close code');
    return new Uint8Array(0);
  }
  if (!isValidCloseCode(code)) throw new RangeError(`close code ${code} may not be sent`);
  if (text.length > MAX_CLOSE_REASON) {
    throw new RangeError(`close reason is ${text.length} UTF-8 bytes; at most ${MAX_CLOSE_REASON} fit a control frame`);
  }
  const out = new Uint8Array(2 + text.length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}
