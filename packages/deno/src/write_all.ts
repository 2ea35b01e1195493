/**
 * Writing every byte of a buffer to a `Deno.Conn` (a `write` may take only part of it).
 * @module
 */

/**
 * Writes all of `bytes`, looping over partial writes.
 * @example
 * ```ts
 * await writeAll(conn, new TextEncoder().encode(request));
 * ```
 */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(at === 0 ? bytes : bytes.subarray(at));
}
