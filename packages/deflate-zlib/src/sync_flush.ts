/**
 * The four octets a sync flush ends with, which permessage-deflate removes from every
 * message and puts back before inflating (RFC 7692 §7.2.1, §7.2.2).
 * @module
 */

/**
 * `00 00 ff ff`: the LEN and NLEN of the empty stored block (RFC 1951 §3.2.4) that a sync
 * flush emits, whose 3-bit header sits in the octet before them.
 */
export const SYNC_FLUSH_TAIL: Uint8Array = Uint8Array.of(0x00, 0x00, 0xff, 0xff);

/** Whether `data` ends with {@link SYNC_FLUSH_TAIL}. */
export function endsWithSyncFlush(data: Uint8Array): boolean {
  const n = data.length;
  return n >= 4 && data[n - 4] === 0x00 && data[n - 3] === 0x00 && data[n - 2] === 0xff && data[n - 1] === 0xff;
}

/** `data` followed by `00 00 ff ff` (RFC 7692 §7.2.2 step 1), in a new buffer. */
export function withSyncFlushTail(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 4);
  out.set(data);
  out.set(SYNC_FLUSH_TAIL, data.length);
  return out;
}

/**
 * Whether `rest`, what follows the end of a DEFLATE stream in a message with its tail put
 * back, is only what is left of the sync flush after a final block: the appended
 * `00 00 ff ff` alone, or with the one `00` octet that starts the empty stored block a
 * sender appends after a block with BFINAL set (RFC 7692 §7.2.3.4 example:
 * `f3 48 cd c9 c9 07 00 00`).
 */
export function isSyncFlushRest(rest: Uint8Array): boolean {
  const n = rest.length;
  if (n !== 4 && n !== 5) return false;
  if (n === 5 && rest[0] !== 0x00) return false;
  return endsWithSyncFlush(rest);
}
