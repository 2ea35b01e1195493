import { describe, expect, it } from 'vitest';
import { KEY_NONCE_BYTES, acceptKey, generateKey, isValidKey } from '../src/accept_key.ts';

describe('acceptKey (RFC 6455 §4.2.2)', () => {
  it('computes the RFC 6455 §1.3 example accept value', async () => {
    expect(await acceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('computes the accept value of a second known key', async () => {
    expect(await acceptKey('x3JJHMbDL1EzLkh9GBhXDw==')).toBe('HSmrc0sMlYUkAGmm5OPpG2HaGWk=');
  });

  it('yields base64 of a 20-byte SHA-1 digest', async () => {
    const accept = await acceptKey(generateKey());
    expect(accept).toHaveLength(28);
    expect(atob(accept)).toHaveLength(20);
  });
});

describe('generateKey (RFC 6455 §4.1 item 7)', () => {
  it('generates base64 of 16 random bytes that isValidKey accepts', () => {
    const key = generateKey();
    expect(key).toHaveLength(24);
    expect(atob(key)).toHaveLength(KEY_NONCE_BYTES);
    expect(isValidKey(key)).toBe(true);
  });

  it('generates a fresh key each time', () => {
    const keys = new Set(Array.from({ length: 32 }, () => generateKey()));
    expect(keys.size).toBe(32);
  });
});

describe('isValidKey (RFC 6455 §4.2.1 item 5)', () => {
  it('accepts canonical base64 of 16 bytes', () => {
    expect(isValidKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe(true);
    expect(isValidKey('x3JJHMbDL1EzLkh9GBhXDw==')).toBe(true);
    expect(isValidKey('AAAAAAAAAAAAAAAAAAAAAA==')).toBe(true);
    expect(isValidKey('/////////////////////w==')).toBe(true);
    expect(isValidKey('+++++++++++++++++++++g==')).toBe(true);
  });

  it('refuses keys of the wrong length or without padding', () => {
    expect(isValidKey('')).toBe(false);
    expect(isValidKey('dGhlIHNhbXBsZSBub25jZQ')).toBe(false); // padding missing
    expect(isValidKey('dGhlIHNhbXBsZSBub25jZQ=')).toBe(false); // one pad character
    expect(isValidKey('dGhlIHNhbXBsZSBub25j')).toBe(false); // 15 bytes
    expect(isValidKey('dGhlIHNhbXBsZSBub25jZQAA')).toBe(false); // 18 bytes, no padding
    expect(isValidKey('dGhlIHNhbXBsZSBub25jZQ==AAAA')).toBe(false); // trailing data
  });

  it('refuses characters outside the base64 alphabet, including surrounding whitespace', () => {
    expect(isValidKey('dGhlIHNhbXBsZSBub25jZ-==')).toBe(false); // base64url '-'
    expect(isValidKey('dGhlIHNhbXBsZSBub25j_Q==')).toBe(false); // base64url '_'
    expect(isValidKey(' dGhlIHNhbXBsZSBub25jZQ==')).toBe(false);
    expect(isValidKey('dGhlIHNhbXBsZSBub25jZQ== ')).toBe(false);
    expect(isValidKey('dGhlIHNhbXBsZSBub25jZQ==\r\n')).toBe(false);
  });

  it('refuses non-canonical base64 whose pad bits are not zero (RFC 4648 §3.5)', () => {
    expect(isValidKey('dGhlIHNhbXBsZSBub25jZR==')).toBe(false);
    expect(isValidKey('dGhlIHNhbXBsZSBub25jZf==')).toBe(false);
  });
});
