/** Octets as a string of the code points 0–255, as the HTTP head parser reads field values. */
export function latin1(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += String.fromCharCode(byte);
  return out;
}
