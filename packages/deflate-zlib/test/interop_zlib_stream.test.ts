// Interop with one long-lived zlib stream per direction, flushed per message: the way ws
// and Chromium compress and decompress. Their context is the whole connection; ours is a
// dictionary per call: both must read each other's messages across 100+ messages.
import { describe, expect, it } from 'vitest';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { zlibEngine } from '../src/index.ts';
import { conversation, jsonMessage, sameBytes } from './support/messages.ts';
import { StreamDeflater, StreamInflater } from './support/zlib_stream.ts';

const MAX = 1 << 24;
const messages = conversation(130, 7);
const TAIL = Uint8Array.of(0x00, 0x00, 0xff, 0xff);

describe('interop: a long-lived zlib deflate stream (ws, Chromium) to our inflater', () => {
  for (let windowBits = 8; windowBits <= 15; windowBits++) {
    it(`with context takeover, windowBits ${windowBits}: 130 messages inflate unchanged`, async () => {
      // zlib's raw deflate cannot do 8: Node, Deno and Bun raise it to 9, whose matches
      // still reach at most 250 octets back (MAX_DIST), within the 256 a peer was allowed.
      const peer = new StreamDeflater({ windowBits });
      const i = zlibEngine.createInflater({ windowBits, noContextTakeover: false });
      try {
        for (const [n, m] of messages.entries()) {
          const back = i.inflate(await peer.deflate(m), MAX);
          if (!sameBytes(back, m)) expect.unreachable(`message ${n} (${m.length} octets) differs`);
        }
      } finally {
        peer.close();
      }
    });
  }

  for (const level of [1, 9]) {
    it(`level ${level}, windowBits 15: 130 messages inflate unchanged`, async () => {
      const peer = new StreamDeflater({ windowBits: 15, level });
      const i = zlibEngine.createInflater({ windowBits: 15, noContextTakeover: false });
      try {
        for (const m of messages) expect(sameBytes(i.inflate(await peer.deflate(m), MAX), m)).toBe(true);
      } finally {
        peer.close();
      }
    });
  }

  for (let windowBits = 8; windowBits <= 15; windowBits++) {
    it(`without context takeover, windowBits ${windowBits}: each message compressed alone inflates unchanged`, () => {
      const i = zlibEngine.createInflater({ windowBits, noContextTakeover: true });
      for (const m of messages) {
        const out = deflateRawSync(m, { windowBits: Math.max(9, windowBits), finishFlush: constants.Z_SYNC_FLUSH });
        expect(sameBytes(i.inflate(out.subarray(0, out.length - 4), MAX), m)).toBe(true);
      }
    });
  }

  it('an inflater with a smaller window than the peer used fails, with an Error, once the peer refers further back', async () => {
    // The peer repeats 3 KiB messages; with a 32 KiB window it refers ~3 KiB back, past 512.
    const peer = new StreamDeflater({ windowBits: 15 });
    const i = zlibEngine.createInflater({ windowBits: 9, noContextTakeover: false });
    const repeated = jsonMessage(1, 3000);
    try {
      expect(sameBytes(i.inflate(await peer.deflate(repeated), MAX), repeated)).toBe(true);
      const second = await peer.deflate(repeated);
      expect(() => i.inflate(second, MAX)).toThrow(/not valid DEFLATE/);
    } finally {
      peer.close();
    }
  });
});

describe('interop: our deflater to a long-lived zlib inflate stream (ws, Chromium)', () => {
  for (let windowBits = 9; windowBits <= 15; windowBits++) {
    it(`with context takeover, windowBits ${windowBits}: 130 messages inflate unchanged, never referring past the window`, async () => {
      // The reference inflater's window is exactly 2 ** windowBits: a reference beyond it
      // fails with "invalid distance too far back".
      const d = zlibEngine.createDeflater({ windowBits, noContextTakeover: false, level: 6, memLevel: 8 });
      const peer = new StreamInflater({ windowBits });
      try {
        for (const [n, m] of messages.entries()) {
          const back = await peer.inflate(d.deflate(m));
          if (!sameBytes(back, m)) expect.unreachable(`message ${n} (${m.length} octets) differs`);
        }
      } finally {
        peer.close();
      }
    });
  }

  for (let windowBits = 9; windowBits <= 15; windowBits++) {
    it(`without context takeover, windowBits ${windowBits}: each message inflates alone`, () => {
      const d = zlibEngine.createDeflater({ windowBits, noContextTakeover: true, level: 6, memLevel: 8 });
      for (const m of messages) {
        const payload = d.deflate(m);
        const input = new Uint8Array(payload.length + 4);
        input.set(payload);
        input.set(TAIL, payload.length);
        const back = inflateRawSync(input, { windowBits, finishFlush: constants.Z_SYNC_FLUSH });
        expect(sameBytes(back, m)).toBe(true);
      }
    });
  }
});
