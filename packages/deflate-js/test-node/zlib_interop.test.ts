// Node only: the plain-JavaScript engine and node:zlib read each other's messages, with
// context takeover across 100 messages, as a browser and a Node server would.
import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { jsDeflateEngine } from '../src/index.ts';
import { concat, MiB, prng, randomBytes, utf8 } from '../test/helpers.ts';

const TAIL = Uint8Array.of(0x00, 0x00, 0xff, 0xff);

/** Writes `input` to a zlib stream and resolves with what it emits after a sync flush. */
function syncFlush(stream: DeflateRaw | InflateRaw, input: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer): void => void chunks.push(chunk);
    stream.on('data', onData);
    stream.once('error', reject);
    stream.write(input);
    stream.flush(constants.Z_SYNC_FLUSH, () => {
      stream.off('data', onData);
      stream.off('error', reject);
      resolve(new Uint8Array(Buffer.concat(chunks)));
    });
  });
}

/** 100 messages: JSON-like text that repeats across messages, some binary, an empty one. */
function messages(): Uint8Array[] {
  const random = prng(42);
  return Array.from({ length: 100 }, (_, i) => {
    if (i === 50) return new Uint8Array(0);
    if (i % 10 === 3) return randomBytes(random, 1 + Math.floor(random() * 5000));
    const records = Array.from({ length: 1 + Math.floor(random() * 200) }, (_, j) => ({ id: i * 1000 + j, user: `user-${j % 17}`, score: Math.floor(random() * 100), ok: j % 2 === 0 }));
    return utf8(JSON.stringify(records));
  });
}

describe('interop with node:zlib', () => {
  for (const windowBits of [9, 11, 15]) {
    it(`zlib's createInflateRaw reads the engine's messages with context takeover (windowBits ${windowBits})`, async () => {
      const deflater = jsDeflateEngine.createDeflater({ windowBits, noContextTakeover: false, level: 6, memLevel: 8 });
      const zlibInflater = createInflateRaw({ windowBits });
      try {
        for (const message of messages()) {
          const payload = deflater.deflate(message);
          expect(await syncFlush(zlibInflater, concat(payload, TAIL))).toEqual(message);
        }
      } finally {
        zlibInflater.close();
      }
    });

    it(`the engine reads zlib's sync-flushed messages with context takeover (windowBits ${windowBits})`, async () => {
      const zlibDeflater = createDeflateRaw({ windowBits, level: 6, memLevel: 8 });
      const inflater = jsDeflateEngine.createInflater({ windowBits, noContextTakeover: false });
      let referredBack = 0;
      try {
        for (const message of messages()) {
          const flushed = await syncFlush(zlibDeflater, message);
          expect(Array.from(flushed.subarray(-4))).toEqual(Array.from(TAIL));
          const payload = flushed.length === 4 ? Uint8Array.of(0) : flushed.subarray(0, -4);
          if (payload.length * 4 < message.length) referredBack++;
          expect(inflater.inflate(payload, MiB)).toEqual(message);
        }
      } finally {
        zlibDeflater.close();
      }
      expect(referredBack).toBeGreaterThan(10); // context takeover was exercised
    });
  }

  it('the engine writes the same octets as zlib for the same level, memLevel and window', async () => {
    // pako is a port of zlib whose default hash is that of the Chromium zlib Node bundles,
    // so the output is identical: this pins every setting being passed through. (Should a
    // future Node bundle another zlib, compare sizes instead.)
    for (const [level, memLevel, windowBits] of [[6, 8, 15], [1, 9, 10], [9, 4, 12]] as const) {
      const deflater = jsDeflateEngine.createDeflater({ windowBits, noContextTakeover: false, level, memLevel });
      const zlibDeflater = createDeflateRaw({ windowBits, level, memLevel });
      const inflater = createInflateRaw({ windowBits });
      try {
        for (const message of messages().slice(0, 20)) {
          const ours = deflater.deflate(message);
          const theirs = await syncFlush(zlibDeflater, message);
          expect(concat(ours, TAIL)).toEqual(theirs);
          expect(await syncFlush(inflater, concat(ours, TAIL))).toEqual(message);
        }
      } finally {
        zlibDeflater.close();
        inflater.close();
      }
    }
  });
});
