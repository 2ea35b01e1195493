/**
 * The tail a sync flush ends with: an empty stored block's LEN and NLEN (RFC 7692 §7.2.1).
 * The sender removes it; the receiver appends it again (§7.2.2).
 * @module
 */

/** `00 00 ff ff`: LEN 0 and NLEN 0xffff of the empty stored block a sync flush writes. */
export const SYNC_FLUSH_TAIL: Uint8Array = Uint8Array.of(0x00, 0x00, 0xff, 0xff);

/** Whether `out[0..end)` ends with {@link SYNC_FLUSH_TAIL}. */
export function endsWithSyncFlushTail(out: Uint8Array, end: number): boolean {
  return end >= 4 && out[end - 4] === 0x00 && out[end - 3] === 0x00 && out[end - 2] === 0xff && out[end - 1] === 0xff;
}
