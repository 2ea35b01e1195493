// Credentials in a WebSocket URL: Fetch sends the URL's user info as Basic Authorization
// (RFC 7617) when the request has no Authorization field, which is what browsers, Deno,
// Bun and undici do for `new WebSocket('ws://user:pass@host/')`.
import { describe, expect, it } from 'vitest';
import { basicCredentials, buildClientRequest, percentDecode } from '../src/index.ts';

/** The value of a field in a request head, or undefined. */
function field(head: string, name: string): string | undefined {
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

describe('percentDecode', () => {
  it('turns %XX into the byte and leaves other characters as their UTF-8 bytes', () => {
    expect(Array.from(percentDecode('a%40b%c3%A9'))).toEqual([0x61, 0x40, 0x62, 0xc3, 0xa9]);
  });

  it('keeps a "%" not followed by two hex digits, where decodeURIComponent would throw', () => {
    // "%zz" and a trailing "%4": not escapes.
    expect(new TextDecoder().decode(percentDecode('%zz%4'))).toBe('%zz%4');
  });
});

describe('basicCredentials', () => {
  it('is the base64 of "user:password" (RFC 7617 §2 example)', () => {
    expect(basicCredentials(new URL('ws://Aladdin:open%20sesame@example.com/'))).toBe('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
  });

  it('percent-decodes the user info to its UTF-8 bytes', () => {
    // "ü" is %C3%BC in the URL record: the bytes c3 bc are sent, not the code point.
    const value = basicCredentials(new URL('ws://%C3%BC:p%3Ass@example.com/'))!;
    expect(Array.from(atob(value.slice('Basic '.length)), (c) => c.charCodeAt(0))).toEqual([0xc3, 0xbc, 0x3a, 0x70, 0x3a, 0x73, 0x73]);
  });

  it('has a user without a password, or a password without a user', () => {
    expect(basicCredentials(new URL('ws://user@example.com/'))).toBe(`Basic ${btoa('user:')}`);
    expect(basicCredentials(new URL('ws://:secret@example.com/'))).toBe(`Basic ${btoa(':secret')}`);
  });

  it('is undefined for a URL without user info', () => {
    expect(basicCredentials(new URL('ws://example.com/'))).toBeUndefined();
  });
});

describe('buildClientRequest: credentials in the URL', () => {
  it('sends Authorization: Basic for ws://user:pass@host/, and not the user info elsewhere', () => {
    const { request } = buildClientRequest({ url: 'ws://user:pass@example.com/chat?x=1' });
    expect(field(request, 'Authorization')).toBe('Basic dXNlcjpwYXNz');
    expect(field(request, 'Host')).toBe('example.com');
    expect(request.startsWith('GET /chat?x=1 HTTP/1.1\r\n')).toBe(true);
  });

  it('sends no Authorization for a URL without user info', () => {
    expect(field(buildClientRequest({ url: 'ws://example.com/' }).request, 'Authorization')).toBeUndefined();
  });

  it('leaves an Authorization field given by the caller alone', () => {
    const { request } = buildClientRequest({ url: 'ws://user:pass@example.com/', headers: { Authorization: 'Bearer t0k3n' } });
    expect(request.match(/^authorization:/gim)).toHaveLength(1);
    expect(field(request, 'Authorization')).toBe('Bearer t0k3n');
  });
});
