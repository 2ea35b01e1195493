/**
 * Results that do not pin zlib's output buffers.
 * @module
 */

/**
 * A plain `Uint8Array` over exactly `view`'s octets. zlib's result can be a view into a
 * much larger buffer (a 64 KiB output chunk, or an 8 KiB Buffer pool slab): a message the
 * application keeps must not keep that alive, so a result that leaves more than 1 KiB and
 * more than a quarter of its buffer unused is copied (cheap: such results are short).
 */
export function exactly(view: Uint8Array): Uint8Array {
  const n = view.byteLength;
  const unused = view.buffer.byteLength - n;
  if (unused > 1024 && unused > n >>> 2) {
    const copy = new Uint8Array(n);
    copy.set(view);
    return copy;
  }
  return new Uint8Array(view.buffer, view.byteOffset, n);
}
