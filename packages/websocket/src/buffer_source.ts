/**
 * Web IDL buffer types as the facade handles them: telling an `ArrayBuffer` apart (across
 * realms, and from a `SharedArrayBuffer`), and copying bytes out of a `BufferSource`.
 * @module
 */

const byteLengthGetter = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength')!.get!;

/**
 * Web IDL's ArrayBuffer check: the value has [[ArrayBufferData]] and is not shared. Works
 * for buffers of another realm, where `instanceof ArrayBuffer` does not.
 *
 * @example
 * ```ts
 * isArrayBuffer(new ArrayBuffer(1));   // true
 * isArrayBuffer(new Uint8Array(1));    // false: a view
 * ```
 */
export function isArrayBuffer(value: unknown): value is ArrayBuffer {
  if (typeof value !== 'object' || value === null) return false;
  try {
    byteLengthGetter.call(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * A copy of the bytes of a `BufferSource` (Web IDL "get a copy of the bytes held by the
 * buffer source"), or null for anything else.
 *
 * @example
 * ```ts
 * copyBufferSource(new Uint16Array([0x0201])); // Uint8Array [1, 2]
 * copyBufferSource('text');                    // null
 * ```
 */
export function copyBufferSource(value: unknown): Uint8Array | null {
  if (isArrayBuffer(value)) return new Uint8Array(value.slice(0));
  if (ArrayBuffer.isView(value)) return new Uint8Array(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  return null;
}

/**
 * An `ArrayBuffer` holding exactly `bytes`: their own buffer when they span all of it,
 * else a copy (a message must not expose the bytes around it).
 *
 * @example
 * ```ts
 * exactArrayBuffer(new Uint8Array([1, 2, 3]).subarray(1)).byteLength; // 2
 * ```
 */
export function exactArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const buffer = bytes.buffer;
  if (bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength && isArrayBuffer(buffer)) return buffer;
  // new Uint8Array(view) copies: `slice()` on a Node Buffer would return a view of its pool.
  return new Uint8Array(bytes).buffer;
}

/**
 * A `Uint8Array` holding exactly `bytes` over a buffer of its own: `bytes` itself when it
 * spans its whole buffer, else a copy.
 *
 * @example
 * ```ts
 * const chunk = new Uint8Array([1, 2, 3]);
 * ownBytes(chunk) === chunk;             // true
 * ownBytes(chunk.subarray(1)).byteOffset; // 0, a copy
 * ```
 */
export function ownBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  return new Uint8Array(bytes);
}
