/**
 * Byte strings for tests: `'\x81\x02hi'` as the bytes 81 02 68 69.
 * @module
 */

/**
 * The bytes of a string of one byte per character (U+0000–U+00FF), as HTTP heads and
 * hex-escaped frames are written in tests.
 *
 * @throws {TypeError} for a character above U+00FF
 * @example
 * ```ts
 * binaryString('\x81\x02hi'); // Uint8Array [0x81, 0x02, 0x68, 0x69]
 * ```
 */
export function binaryString(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) throw new TypeError(`A byte string holds characters up to U+00FF; found U+${code.toString(16).toUpperCase().padStart(4, '0')} at ${i}`);
    bytes[i] = code;
  }
  return bytes;
}
