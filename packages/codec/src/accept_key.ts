/**
 * The handshake nonce and its proof: `Sec-WebSocket-Key` (RFC 6455 §4.1 item 7) and
 * `Sec-WebSocket-Accept` (RFC 6455 §4.2.2 item 5.4), with Web Crypto only.
 * @module
 */
import { WEBSOCKET_GUID } from './constants.ts';

/** Bytes of randomness in a `Sec-WebSocket-Key` nonce (RFC 6455 §4.1 item 7). */
export const KEY_NONCE_BYTES = 16;

/**
 * Canonical base64 of 16 bytes: 22 alphabet characters then `==` (RFC 4648 §4). The 22nd
 * character carries 2 data bits and 4 zero pad bits, so it is one of `A`, `Q`, `g`, `w`
 * (RFC 4648 §3.5); anything else does not encode any 16-byte value.
 */
const KEY_PATTERN = /^[A-Za-z0-9+/]{21}[AQgw]==$/;

/** Base64 (RFC 4648 §4, with padding) of bytes, through the `btoa` Web API. */
function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary);
}

/**
 * A fresh `Sec-WebSocket-Key`: base64 of 16 bytes from `crypto.getRandomValues`
 * (RFC 6455 §4.1 item 7: "randomly selected ... for each connection").
 *
 * @example
 * ```ts
 * const key = generateKey(); // e.g. 'dGhlIHNhbXBsZSBub25jZQ=='
 * isValidKey(key);           // true
 * ```
 */
export function generateKey(): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(KEY_NONCE_BYTES)));
}

/**
 * Whether `key` is a valid `Sec-WebSocket-Key`: the canonical base64 encoding of exactly
 * 16 bytes (RFC 6455 §4.1 item 7, §4.2.1 item 5), i.e. 24 characters ending in `==`.
 *
 * @example
 * ```ts
 * isValidKey('dGhlIHNhbXBsZSBub25jZQ=='); // true
 * isValidKey('dGhlIHNhbXBsZSBub25jZQ');   // false: padding missing
 * ```
 */
export function isValidKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

/**
 * The `Sec-WebSocket-Accept` value for a key: base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2
 * item 5.4, §1.3), hashed with `crypto.subtle.digest`. The key is hashed as given; validate
 * it with {@link isValidKey} first.
 *
 * @example
 * ```ts
 * await acceptKey('dGhlIHNhbXBsZSBub25jZQ=='); // 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=' (RFC 6455 §1.3)
 * ```
 */
/**
 * A SHA-1 function a runtime may inject where it has a faster one than Web Crypto's
 * (Node's `crypto.subtle` goes through a thread pool; `createHash('sha1')` does not).
 */
export type Sha1 = (data: Uint8Array) => Uint8Array | Promise<Uint8Array>;

export async function acceptKey(key: string, sha1?: Sha1): Promise<string> {
  const input = new TextEncoder().encode(key + WEBSOCKET_GUID);
  const digest = sha1 === undefined ? new Uint8Array(await crypto.subtle.digest('SHA-1', input)) : await sha1(input);
  return toBase64(digest);
}
