/**
 * Binary data as bytes.
 * @module
 */

/**
 * Views binary data (an `ArrayBuffer`, or any `ArrayBufferView` over its bytes) as a
 * `Uint8Array`, without copying; a `Uint8Array` is returned as it is.
 * @example
 * ```ts
 * bytesOf(new Uint16Array([1])); // Uint8Array [1, 0] on a little-endian machine
 * ```
 */
export function bytesOf(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}
