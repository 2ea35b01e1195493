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

const sharedByteLengthGetter =
  typeof SharedArrayBuffer === 'function' ? Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, 'byteLength')?.get : undefined;
const resizableGetter = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'resizable')?.get;
const growableGetter = typeof SharedArrayBuffer === 'function' ? Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, 'growable')?.get : undefined;

/**
 * Whether a value is a `SharedArrayBuffer` (of any realm). Where the global is hidden (a
 * browser page that is not cross-origin isolated still gets one from a shared
 * `WebAssembly.Memory`), by its class string.
 */
function isSharedArrayBuffer(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (sharedByteLengthGetter === undefined) return !isArrayBuffer(value) && Object.prototype.toString.call(value) === '[object SharedArrayBuffer]';
  try {
    sharedByteLengthGetter.call(value);
    return true;
  } catch {
    return false;
  }
}

/** Whether a buffer (ArrayBuffer or SharedArrayBuffer) can change length. */
function isResizable(buffer: ArrayBufferLike): boolean {
  const getter = isArrayBuffer(buffer) ? resizableGetter : growableGetter;
  return getter !== undefined && getter.call(buffer) === true;
}

/**
 * Web IDL's conversion of a value to `BufferSource` in a union (`(BufferSource or USVString)`,
 * `(BufferSource or Blob or USVString)`): the bytes of an `ArrayBuffer` or of an
 * `ArrayBufferView`'s window, as a view over them (no copy); `null` for anything else (the
 * caller tries its other types). Without [AllowShared] and [AllowResizable], a
 * `SharedArrayBuffer`, a resizable `ArrayBuffer`, and a view on either throw a `TypeError`
 * ("If IsSharedArrayBuffer(V) is true, then throw a TypeError", "If
 * IsResizableArrayBuffer(V) is true, then throw a TypeError"), as Chromium does.
 *
 * @example
 * ```ts
 * bufferSourceBytes(new Uint16Array([0x0201]));                              // Uint8Array [1, 2] over the same buffer
 * bufferSourceBytes(new Uint8Array(new ArrayBuffer(4, { maxByteLength: 8 }))); // throws TypeError
 * bufferSourceBytes('text');                                                 // null
 * ```
 */
export function bufferSourceBytes(value: unknown): Uint8Array | null {
  if (isSharedArrayBuffer(value)) throw new TypeError('A SharedArrayBuffer is not a BufferSource here');
  if (isArrayBuffer(value)) {
    if (isResizable(value)) throw new TypeError('A resizable ArrayBuffer is not a BufferSource here');
    return new Uint8Array(value);
  }
  if (ArrayBuffer.isView(value)) {
    const buffer = value.buffer;
    if (isSharedArrayBuffer(buffer)) throw new TypeError('A view on a SharedArrayBuffer is not a BufferSource here');
    if (isResizable(buffer)) throw new TypeError('A view on a resizable ArrayBuffer is not a BufferSource here');
    return new Uint8Array(buffer, value.byteOffset, value.byteLength);
  }
  return null;
}

/**
 * {@link bufferSourceBytes}, copied: "get a copy of the bytes held by the buffer source",
 * as `WebSocketStream`'s writer takes a chunk.
 *
 * @example
 * ```ts
 * toBufferSourceCopy(new Uint8Array([1, 2]));                              // Uint8Array [1, 2], its own buffer
 * toBufferSourceCopy(new Uint8Array(new ArrayBuffer(4, { maxByteLength: 8 }))); // throws TypeError
 * toBufferSourceCopy('text');                                              // null
 * ```
 */
export function toBufferSourceCopy(value: unknown): Uint8Array | null {
  const bytes = bufferSourceBytes(value);
  return bytes === null ? null : new Uint8Array(bytes);
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
