/**
 * HTTP Basic credentials (RFC 7617) from a URL's user info, as Fetch sends them for a
 * WebSocket URL such as `ws://user:pass@host/` ("HTTP-network-or-cache fetch": when the
 * request's current URL includes credentials and no `Authorization` field was set, the
 * username and password are those of the URL) and as a proxy URL's are sent.
 * @module
 */

/** Whether a byte is an ASCII hex digit. */
function isHexDigit(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66);
}

/**
 * The URL Standard's "percent-decode" of a string: each `%` followed by two hex digits is
 * the byte they spell; every other character stays as its UTF-8 bytes (a lone `%` too, so
 * this never throws, unlike `decodeURIComponent`).
 *
 * @example
 * ```ts
 * percentDecode('p%40ss');  // Uint8Array [0x70, 0x40, 0x73, 0x73]
 * percentDecode('100%');    // the bytes of '100%'
 * ```
 */
export function percentDecode(input: string): Uint8Array {
  const bytes = new TextEncoder().encode(input);
  const out = new Uint8Array(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte === 0x25 && i + 2 < bytes.length && isHexDigit(bytes[i + 1]!) && isHexDigit(bytes[i + 2]!)) {
      out[n++] = parseInt(String.fromCharCode(bytes[i + 1]!, bytes[i + 2]!), 16);
      i += 2;
    } else out[n++] = byte;
  }
  return out.subarray(0, n);
}

/**
 * The `Basic` authorization value for a URL's user info: the base64 of the
 * percent-decoded username, `:`, and the percent-decoded password (RFC 7617 §2, the bytes
 * as the URL holds them, which is UTF-8); `undefined` when the URL has neither.
 *
 * @example
 * ```ts
 * basicCredentials(new URL('ws://Aladdin:open%20sesame@example.com/')); // 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=='
 * basicCredentials(new URL('ws://example.com/'));                        // undefined
 * ```
 */
export function basicCredentials(url: URL): string | undefined {
  if (url.username === '' && url.password === '') return undefined;
  const user = percentDecode(url.username);
  const password = percentDecode(url.password);
  let binary = '';
  for (const byte of user) binary += String.fromCharCode(byte);
  binary += ':';
  for (const byte of password) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}
