// RFC 7692 §7.2.3's examples, byte for byte, and the other shapes a peer's DEFLATE data
// may take inside one message (§7.2.3.4 final blocks, §7.2.3.5 several blocks).
import { describe, expect, it } from 'vitest';
import { rawDictionarySupport } from '../src/raw_dictionary_support.ts';
import { zlibEngine } from '../src/index.ts';
import { FixedBlock } from './support/bits.ts';
import { concat, hex, toHex, utf8 } from './support/messages.ts';

const MAX = 1 << 20;
const hello = utf8('Hello');
const text = (u: Uint8Array) => new TextDecoder().decode(u);
const deflater = (noContextTakeover = false) => zlibEngine.createDeflater({ windowBits: 15, noContextTakeover, level: 6, memLevel: 8 });
const inflater = (noContextTakeover = false, windowBits = 15) => zlibEngine.createInflater({ windowBits, noContextTakeover });

describe('RFC 7692 §7.2.3 examples', () => {
  it('§7.2.3.1: inflates "Hello" compressed alone (f2 48 cd c9 c9 07 00)', () => {
    expect(text(inflater().inflate(hex('f2 48 cd c9 c9 07 00'), MAX))).toBe('Hello');
  });

  it('§7.2.3.1: deflates "Hello" to f2 48 cd c9 c9 07 00', () => {
    expect(toHex(deflater().deflate(hello))).toBe('f2 48 cd c9 c9 07 00');
  });

  it('§7.2.3.2: inflates a second "Hello" that refers to the first (f2 00 11 00 00) with context takeover', () => {
    const i = inflater();
    expect(text(i.inflate(hex('f2 48 cd c9 c9 07 00'), MAX))).toBe('Hello');
    expect(text(i.inflate(hex('f2 00 11 00 00'), MAX))).toBe('Hello');
  });

  it('§7.2.3.2: fails the same second message without context takeover (nothing to refer to)', () => {
    const i = inflater(true);
    expect(text(i.inflate(hex('f2 48 cd c9 c9 07 00'), MAX))).toBe('Hello');
    expect(() => i.inflate(hex('f2 00 11 00 00'), MAX)).toThrow(/not valid DEFLATE/);
  });

  it('§7.2.3.2: deflates a second "Hello" to f2 00 11 00 00 with context takeover (as the first where raw dictionaries are ignored)', () => {
    const d = deflater();
    d.deflate(hello);
    const expected = rawDictionarySupport().deflate ? 'f2 00 11 00 00' : 'f2 48 cd c9 c9 07 00';
    expect(toHex(d.deflate(hello))).toBe(expected);
  });

  it('node:zlib honours raw dictionaries on Node and Bun (Deno 2 ignores them)', () => {
    const deno = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';
    expect(rawDictionarySupport()).toEqual({ deflate: !deno, inflate: !deno });
  });

  it('§7.2.3.2: without context takeover the second "Hello" compresses alone again', () => {
    const d = deflater(true);
    d.deflate(hello);
    expect(toHex(d.deflate(hello))).toBe('f2 48 cd c9 c9 07 00');
  });

  it('the test block writer agrees with the RFC examples', () => {
    const first = new FixedBlock();
    for (const b of hello) first.literal(b);
    expect(toHex(first.message())).toBe('f2 48 cd c9 c9 07 00');
    // The RFC's second message is a literal "H" and then "ello" copied from 5 back.
    expect(toHex(new FixedBlock().literal(0x48).match(4, 5).message())).toBe('f2 00 11 00 00');
  });

  it('§7.2.3.3: inflates a stored block (00 05 00 fa ff 48 65 6c 6c 6f 00)', () => {
    expect(text(inflater().inflate(hex('00 05 00 fa ff 48 65 6c 6c 6f 00'), MAX))).toBe('Hello');
  });

  it('§7.2.3.4: inflates a final block followed by the start of the flush (f3 48 cd c9 c9 07 00 00)', () => {
    expect(text(inflater().inflate(hex('f3 48 cd c9 c9 07 00 00'), MAX))).toBe('Hello');
  });

  it('§7.2.3.4: inflates a final block with nothing after it (f3 48 cd c9 c9 07 00)', () => {
    expect(text(inflater().inflate(hex('f3 48 cd c9 c9 07 00'), MAX))).toBe('Hello');
  });

  it('§7.2.3.4: a message after one that ended with a final block still refers to it', () => {
    const i = inflater();
    expect(text(i.inflate(hex('f3 48 cd c9 c9 07 00 00'), MAX))).toBe('Hello');
    expect(text(i.inflate(hex('f2 00 11 00 00'), MAX))).toBe('Hello');
  });

  it('§7.2.3.5: inflates two blocks in one message, split by a sync flush', () => {
    expect(text(inflater().inflate(hex('f2 48 05 00 00 00 ff ff ca c9 c9 07 00'), MAX))).toBe('Hello');
  });

  it('inflates a message with several flush points and empty stored blocks inside', () => {
    const payload = hex('f2 48 05 00 00 00 ff ff  00 00 00 ff ff  00 00 00 ff ff  ca c9 c9 07 00');
    expect(text(inflater().inflate(payload, MAX))).toBe('Hello');
  });

  it('inflates a message that ends with an extra empty stored block', () => {
    // "Hello" + sync flush + another empty stored block, whose 00 00 ff ff the sender removed.
    expect(text(inflater().inflate(hex('f2 48 cd c9 c9 07 00 00 00 ff ff 00'), MAX))).toBe('Hello');
  });

  it('§7.2.3.6: deflates an empty message to 00 and inflates 00 to an empty message', () => {
    expect(toHex(deflater().deflate(new Uint8Array(0)))).toBe('00');
    expect(inflater().inflate(hex('00'), MAX)).toEqual(new Uint8Array(0));
  });

  it('§7.2.3.6: an empty message between others keeps the context intact, both ways', () => {
    const d = deflater();
    const i = inflater();
    for (const m of ['Hello', '', 'Hello', '', '', 'Hello, Hello']) {
      const payload = d.deflate(utf8(m));
      expect(payload.length).toBeGreaterThan(0);
      expect(text(i.inflate(payload, MAX))).toBe(m);
    }
  });

  it('inflates a message made of several DEFLATE streams, each ended by a final block', () => {
    const once = hex('f3 48 cd c9 c9 07 00');
    expect(text(inflater().inflate(concat(once, once, once), MAX))).toBe('HelloHelloHello');
  });

  it('a stream after a final block in the same message may refer back into the one before', () => {
    const i = inflater();
    const second = new FixedBlock(true).match(5, 5).message(true);
    expect(text(i.inflate(concat(hex('f3 48 cd c9 c9 07 00'), second), MAX))).toBe('HelloHello');
    // And the next message sees both.
    expect(text(i.inflate(new FixedBlock().match(10, 10).message(), MAX))).toBe('HelloHello');
  });

  it('rejects garbage after a final block', () => {
    expect(() => inflater().inflate(hex('f3 48 cd c9 c9 07 00 ff ff'), MAX)).toThrow(/not valid DEFLATE/);
  });

  it('rejects a message of more tiny DEFLATE streams than it may hold (64 + 1 per KiB)', () => {
    const empty = hex('03 00'); // BFINAL 1, fixed Huffman, end of block: 10 bits
    const ok = concat(...Array.from({ length: 64 }, () => empty));
    expect(inflater().inflate(ok, MAX)).toEqual(new Uint8Array(0));
    const tooMany = concat(...Array.from({ length: 200 }, () => empty));
    expect(() => inflater().inflate(tooMany, MAX)).toThrow(/more than 64 DEFLATE streams/);
  });

  it('inflates an empty payload to an empty message', () => {
    // Not what a conforming sender sends (§7.2.3.6 says at least 00), but harmless.
    expect(inflater().inflate(new Uint8Array(0), MAX)).toEqual(new Uint8Array(0));
  });
});
