// What an unfinished fragmented message makes a connection hold (RFC 6455 §5.4 lets a peer
// split a message into as many frames as it likes, up to maxFragments): at most 4 times
// what the peer sent, plus 1 KiB a message, whatever the fragments' sizes, binary and text.
// Measured structurally (`held`: the octets of the buffers pinned, 2 per UTF-16 code unit,
// plus an estimate per object: 128 for a view, 32 for a string), so the bound is the same
// on every runtime. Before, 65,535 one-octet fragments held one view each: 12 MiB.
import { describe, expect, it } from 'vitest';
import { Opcode } from '../src/constants.ts';
import { FragmentBytes } from '../src/fragment_bytes.ts';
import { MessageAssembler } from '../src/message_assembler.ts';
import { TextPieces } from '../src/text_pieces.ts';
import { concatList, rng } from './helpers.ts';

/** What a message may hold whatever was sent: its first chunk and the objects around it. */
const ALLOWANCE = 1024;
/** The masked frame header in front of a fragment of `n` octets (RFC 6455 §5.2): what the peer sent for it. */
const wireLength = (n: number): number => n + 4 + (n < 126 ? 2 : n < 65536 ? 4 : 10);

type Kind = 'binary' | 'text';

/**
 * Feeds an assembler the fragments of one message and never its last frame, checking
 * after every fragment how many times what was sent (beyond {@link ALLOWANCE}) it holds.
 * `payloadOf(i, n)` gives the i-th payload (it may be a view of a larger buffer).
 */
function feedUnfinished(kind: Kind, sizes: number[], payloadOf: (i: number, n: number) => Uint8Array, maxMessage = 1 << 30): { worst: number; assembler: MessageAssembler; sent: number } {
  const assembler = new MessageAssembler({ maxMessage, maxFragments: 1 << 20 });
  let sent = 0;
  let worst = 0;
  sizes.forEach((n, i) => {
    const opcode = i === 0 ? (kind === 'text' ? Opcode.Text : Opcode.Binary) : Opcode.Continuation;
    assembler.frameHeader(false, 0, opcode, n);
    expect(assembler.frame(false, opcode, payloadOf(i, n), 0)).toBeUndefined();
    sent += wireLength(n);
    worst = Math.max(worst, (assembler.held.octets - ALLOWANCE) / sent);
  });
  return { worst, assembler, sent };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const fresh = (_i: number, n: number): Uint8Array => new Uint8Array(n).fill(0x61);

describe('an unfinished fragmented message holds at most 4 times what the peer sent', () => {
  for (const kind of ['binary', 'text'] as const) {
    it(`${kind}: 65,535 one-octet fragments, each in its own buffer, are held in a few pieces`, () => {
      const { worst, assembler } = feedUnfinished(kind, new Array<number>(65_535).fill(1), fresh);
      expect(worst).toBeLessThanOrEqual(4);
      // One view or string per fragment would be 65,535 pieces.
      expect(assembler.held.pieces).toBeLessThan(kind === 'binary' ? 16 : 16 + 20);
    });

    it(`${kind}: fragments cut from 64 KiB read buffers do not pin those buffers`, () => {
      // A runtime reading into 64 KiB buffers, one small fragment per read.
      const { worst } = feedUnfinished(kind, new Array<number>(2000).fill(1000), (_i, n) => new Uint8Array(64 * 1024).fill(0x61).subarray(10, 10 + n));
      expect(worst).toBeLessThanOrEqual(4);
    });

    for (const [name, pick] of [
      ['up to 200 octets', (r: ReturnType<typeof rng>) => r.int(201)],
      ['around 1 KiB', (r: ReturnType<typeof rng>) => 512 + r.int(1024)],
      ['up to 100 KiB', (r: ReturnType<typeof rng>) => r.int(100 * 1024)],
      ['mixed one octet and 64 KiB', (r: ReturnType<typeof rng>) => (r.int(2) === 0 ? 1 : 64 * 1024 + r.int(100))],
    ] as const) {
      it(`${kind}: fragments of ${name}, at every step`, () => {
        const r = rng(name.length * 31 + kind.length);
        const sizes = Array.from({ length: 600 }, () => pick(r));
        const { worst } = feedUnfinished(kind, sizes, fresh);
        expect(worst).toBeLessThanOrEqual(4);
      });
    }
  }

  it('binary chunks never grow past what maxMessage leaves for the message', () => {
    const { assembler } = feedUnfinished('binary', new Array<number>(3000).fill(1), fresh, 3000);
    const { pieces, octets } = assembler.held;
    expect(octets).toBeLessThanOrEqual(3000 + 128 * pieces); // the chunks, and 128 per object
  });
});

describe('fragments are put together in order, whichever way each was kept', () => {
  for (const kind of ['binary', 'text'] as const) {
    it(`${kind}: random sizes, some in their own buffers (kept as views), some cut from larger ones (copied)`, () => {
      const r = rng(kind === 'text' ? 5 : 6);
      for (let round = 0; round < 20; round++) {
        const assembler = new MessageAssembler({ maxMessage: 1 << 30, maxFragments: 1 << 20 });
        const count = 1 + r.int(40);
        const parts: Uint8Array[] = [];
        let message: string | Uint8Array | undefined;
        for (let i = 0; i < count; i++) {
          const n = [0, 1, 7, 300, 5000, 70_000, 140_000][r.int(7)]!;
          const octets = r.bytes(n).map((b) => 0x41 + (b % 26)); // ASCII: valid UTF-8 however cut
          parts.push(octets);
          const payload = r.int(2) === 0 ? octets : (() => {
            const big = new Uint8Array(n + 5000);
            big.set(octets, 100);
            return big.subarray(100, 100 + n);
          })();
          const fin = i === count - 1;
          const opcode = i === 0 ? (kind === 'text' ? Opcode.Text : Opcode.Binary) : Opcode.Continuation;
          assembler.frameHeader(fin, 0, opcode, n);
          message = assembler.frame(fin, opcode, payload, 0);
          if (!fin) expect(message).toBeUndefined();
        }
        const expected = concatList(parts);
        if (kind === 'text') expect(message).toBe(new TextDecoder().decode(expected));
        else {
          expect(message).toBeInstanceOf(Uint8Array);
          expect(sameBytes(message as Uint8Array, expected)).toBe(true);
        }
        expect(assembler.held).toEqual({ pieces: 0, octets: 0 });
      }
    });
  }

  it('a text character split across fragments of one octet each is decoded whole', () => {
    const assembler = new MessageAssembler({ maxMessage: 1 << 20, maxFragments: 1 << 20 });
    const octets = new TextEncoder().encode('€😀'.repeat(300)); // 3- and 4-octet sequences
    let message: string | Uint8Array | undefined;
    octets.forEach((b, i) => {
      const fin = i === octets.length - 1;
      const opcode = i === 0 ? Opcode.Text : Opcode.Continuation;
      assembler.frameHeader(fin, 0, opcode, 1);
      message = assembler.frame(fin, opcode, Uint8Array.of(b), 0);
    });
    expect(message).toBe('€😀'.repeat(300));
  });
});

describe('FragmentBytes', () => {
  it('copies small fragments into chunks that double, and keeps a large fragment in its own buffer as a view', () => {
    const sizes: number[] = [];
    const bytes = new FragmentBytes((n) => {
      sizes.push(n);
      return new Uint8Array(n);
    });
    for (let i = 0; i < 2000; i++) bytes.add(Uint8Array.of(i & 0xff), Infinity);
    expect(sizes).toEqual([256, 256, 512, 1024]);
    const large = new Uint8Array(64 * 1024).fill(7);
    bytes.add(large, Infinity);
    bytes.add(Uint8Array.of(1), Infinity); // a new run of copies starts small
    expect(sizes).toEqual([256, 256, 512, 1024, 256]);
    const whole = bytes.take();
    expect(whole.length).toBe(2000 + 64 * 1024 + 1);
    expect(whole[1999]).toBe(1999 & 0xff);
    expect(whole[2000]).toBe(7);
  });

  it('hands back its one chunk uncopied when the message filled most of it', () => {
    const bytes = new FragmentBytes((n) => new Uint8Array(n));
    for (let i = 0; i < 250; i++) bytes.add(Uint8Array.of(1), Infinity);
    const whole = bytes.take();
    expect(whole.length).toBe(250);
    expect(whole.buffer.byteLength).toBe(256);
  });
});

describe('TextPieces', () => {
  it('joins pieces 16 at a time and keeps joined strings in a stack of halving lengths: 65,535 pieces in at most 32 strings', () => {
    const text = new TextPieces();
    let maxPieces = 0;
    for (let i = 0; i < 65_535; i++) {
      text.add(String.fromCharCode(0x61 + (i % 26)));
      maxPieces = Math.max(maxPieces, text.held.pieces);
    }
    expect(maxPieces).toBeLessThanOrEqual(15 + 17);
    const s = text.take();
    expect(s.length).toBe(65_535);
    expect(s.slice(0, 3)).toBe('abc');
    expect(text.held).toEqual({ pieces: 0, octets: 0 });
  });
});
