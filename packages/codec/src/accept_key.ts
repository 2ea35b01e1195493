/**
 * The handshake nonce and its proof: `Sec-WebSocket-Key` (RFC 6455 §4.1 item 7) and
 * `Sec-WebSocket-Accept` (RFC 6455 §4.2.2 item 5.4), with the codec's own SHA-1 unless a runtime injects one.
 * @module
 */
import { WEBSOCKET_GUID } from './constants.ts';
import { sha1 } from './sha1.ts';

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
 * A SHA-1 function a runtime may inject where it has a faster one than Web Crypto's
 * (Node's `crypto.subtle` goes through a thread pool; `createHash('sha1')` does not).
 */
export type Sha1 = (data: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/** A synchronous SHA-1, as the handshake decisions take (Node's `createHash('sha1')`). */
export type SyncSha1 = (data: Uint8Array) => Uint8Array;

const keyEncoder = new TextEncoder();

/**
 * The `Sec-WebSocket-Accept` value for a key: base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2
 * item 5.4, §1.3), synchronously: with the given SHA-1, else the codec's own
 * ({@link sha1}). The key is hashed as given; validate it with {@link isValidKey} first.
 *
 * @example
 * ```ts
 * acceptKeyOf('dGhlIHNhbXBsZSBub25jZQ=='); // 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=' (RFC 6455 §1.3)
 * ```
 */
export function acceptKeyOf(key: string, hash: SyncSha1 = sha1): string {
  return toBase64(hash(keyEncoder.encode(key + WEBSOCKET_GUID)));
}

/**
 * The `Sec-WebSocket-Accept` value for a key (see {@link acceptKeyOf}), with an injected,
 * possibly asynchronous SHA-1, or the codec's own.
 *
 * @example
 * ```ts
 * await acceptKey('dGhlIHNhbXBsZSBub25jZQ=='); // 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=' (RFC 6455 §1.3)
 * ```
 */
export async function acceptKey(key: string, hash?: Sha1): Promise<string> {
  if (hash === undefined) return acceptKeyOf(key);
  return toBase64(await hash(keyEncoder.encode(key + WEBSOCKET_GUID)));
}
