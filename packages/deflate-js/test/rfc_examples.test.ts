// The examples of RFC 7692 §7.2.3, both ways: the inflater reads each payload, and the
// deflater writes the same octets zlib does for "Hello".
import { describe, expect, it } from 'vitest';
import { hex, inflater, pair, text, toHex, utf8 } from './helpers.ts';

describe('RFC 7692 §7.2.3 examples', () => {
  it('inflates "Hello" in one compressed block (§7.2.3.1)', () => {
    expect(text(inflater().inflate(hex('f2 48 cd c9 c9 07 00'), 1024))).toBe('Hello');
  });

  it('inflates a second "Hello" that refers back to the first with context takeover (§7.2.3.2)', () => {
    const inf = inflater();
    expect(text(inf.inflate(hex('f2 48 cd c9 c9 07 00'), 1024))).toBe('Hello');
    // A fixed block holding one match: length 5, distance 5, into the previous message.
    expect(text(inf.inflate(hex('f2 00 11 00 00'), 1024))).toBe('Hello');
  });

  it('fails the second "Hello" of §7.2.3.2 when the peer agreed to no context takeover', () => {
    const inf = inflater(15, true);
    expect(text(inf.inflate(hex('f2 48 cd c9 c9 07 00'), 1024))).toBe('Hello');
    expect(() => inf.inflate(hex('f2 00 11 00 00'), 1024)).toThrow(/invalid distance/);
  });

  it('deflates "Hello" twice as §7.2.3.1 and §7.2.3.2 show, with context takeover', () => {
    const { deflater } = pair();
    expect(toHex(deflater.deflate(utf8('Hello')))).toBe('f2 48 cd c9 c9 07 00');
    expect(toHex(deflater.deflate(utf8('Hello')))).toBe('f2 00 11 00 00');
  });

  it('deflates "Hello" twice the same way without context takeover (§7.2.3.1 both times)', () => {
    const { deflater } = pair(15, true);
    expect(toHex(deflater.deflate(utf8('Hello')))).toBe('f2 48 cd c9 c9 07 00');
    expect(toHex(deflater.deflate(utf8('Hello')))).toBe('f2 48 cd c9 c9 07 00');
  });

  it('inflates "Hello" in a stored block (§7.2.3.3)', () => {
    expect(text(inflater().inflate(hex('00 05 00 fa ff 48 65 6c 6c 6f 00'), 1024))).toBe('Hello');
  });

  it('inflates "Hello" in a block with BFINAL set, then keeps the window for the next message (§7.2.3.4)', () => {
    const inf = inflater();
    // The final block, then 00: the header of the empty stored block our tail completes.
    expect(text(inf.inflate(hex('f3 48 cd c9 c9 07 00 00'), 1024))).toBe('Hello');
    expect(text(inf.inflate(hex('f2 00 11 00 00'), 1024))).toBe('Hello');
  });

  it('inflates a message whose stream ends with a BFINAL block and nothing after it (lenient §7.2.3.4)', () => {
    const inf = inflater();
    expect(text(inf.inflate(hex('f3 48 cd c9 c9 07 00'), 1024))).toBe('Hello');
    expect(text(inf.inflate(hex('f2 48 cd c9 c9 07 00'), 1024))).toBe('Hello');
  });

  it('inflates a message whose last stream is an empty final stored block completed by the tail (found by fuzz/inflate_js)', () => {
    const inf = inflater();
    // 01: BFINAL 1, BTYPE 00 (stored); the 00 00 ff ff put back is its LEN 0 and NLEN, so the
    // stream ends exactly where the tail does: an empty message, as zlib reads it.
    expect(inf.inflate(hex('01'), 1024)).toEqual(new Uint8Array(0));
    // The same after a final block holding "Hello" (§7.2.3.4), and the window is kept.
    expect(text(inf.inflate(hex('f3 48 cd c9 c9 07 00 01'), 1024))).toBe('Hello');
    expect(text(inf.inflate(hex('f2 00 11 00 00'), 1024))).toBe('Hello');
  });

  it('inflates "Hello" split over two blocks (§7.2.3.5)', () => {
    // "He" in a fixed block, a sync flush's empty stored block, "llo" in a fixed block.
    expect(text(inflater().inflate(hex('f2 48 05 00 00 00 ff ff ca c9 c9 07 00'), 1024))).toBe('Hello');
  });

  it('inflates a message with empty stored blocks inside it', () => {
    const inf = inflater();
    // Two empty stored blocks between "He" and "llo".
    expect(text(inf.inflate(hex('f2 48 05 00 00 00 ff ff 00 00 00 ff ff ca c9 c9 07 00'), 1024))).toBe('Hello');
    // An empty stored block first, "Hello" stored, another empty one, then the header of the last.
    expect(text(inf.inflate(hex('00 00 00 ff ff 00 05 00 fa ff 48 65 6c 6c 6f 00 00 00 ff ff 00'), 1024))).toBe('Hello');
  });

  it('inflates 00 to an empty message (§7.2.3.6)', () => {
    expect(inflater().inflate(hex('00'), 1024)).toEqual(new Uint8Array(0));
  });

  it('deflates an empty message to 00 (§7.2.3.6), also right after another message', () => {
    const { deflater, inflater: inf } = pair();
    const first = deflater.deflate(new Uint8Array(0));
    expect(toHex(first)).toBe('00');
    expect(inf.inflate(first, 16)).toEqual(new Uint8Array(0));
    inf.inflate(deflater.deflate(utf8('Hello')), 16);
    // zlib writes nothing for a second flush in a row: the deflater still sends one octet.
    for (let i = 0; i < 2; i++) {
      const empty = deflater.deflate(new Uint8Array(0));
      expect(toHex(empty)).toBe('00');
      expect(inf.inflate(empty, 16)).toEqual(new Uint8Array(0));
    }
    expect(text(inf.inflate(deflater.deflate(utf8('Hello')), 16))).toBe('Hello');
  });
});
