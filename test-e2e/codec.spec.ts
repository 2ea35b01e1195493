/**
 * The codec in a real browser: Chromium runs the codec's source (bundled by esbuild at
 * test time, see support/codec-server.ts) with its own Web Crypto and WHATWG streams.
 * Every check runs inside the page; `page.evaluate` returns plain data to compare here.
 */
import { expect, test } from './support/fixtures.ts';

const HELLO = [0x48, 0x65, 0x6c, 0x6c, 0x6f];
const textFrame = (payload: number[]) => ({ fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: 1, payload });
/** Loads the codec and first checks the stream classes exist, for a clear failure if not. */
async function loadStreams(loadCodec: (module?: string) => Promise<string[]>): Promise<void> {
  expect(await loadCodec(), 'exports of packages/codec/src/index.ts').toEqual(
    expect.arrayContaining(['FrameDecoderStream', 'FrameEncoderStream', 'Opcode']),
  );
}

test('plumbing: a secure context with Web Crypto, and the codec constants load', async ({ page, loadCodec }) => {
  expect(await loadCodec('constants')).toContain('Opcode');
  const seen = await page.evaluate(() => ({
    secure: isSecureContext,
    digest: typeof crypto.subtle?.digest,
    text: codec.Opcode.Text,
    guid: codec.WEBSOCKET_GUID,
  }));
  expect(seen).toEqual({ secure: true, digest: 'function', text: 1, guid: '258EAFA5-E914-47DA-95CA-C5AB0DC85B11' });
});

test('acceptKey computes the RFC 6455 §1.3 example with the browser Web Crypto', async ({ page, loadCodec }) => {
  await loadCodec();
  expect(await page.evaluate(() => codec.acceptKey('dGhlIHNhbXBsZSBub25jZQ=='))).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

test('generateKey returns base64 of 16 random bytes', async ({ page, loadCodec }) => {
  await loadCodec();
  const [a, b] = await page.evaluate(() => [codec.generateKey(), codec.generateKey()]);
  expect(a).toMatch(/^[A-Za-z0-9+/]{22}==$/);
  expect(a).not.toBe(b);
});

test('client decodes the RFC 6455 §5.7 unmasked text frame "Hello", whole and byte by byte', async ({ page, loadCodec }) => {
  await loadStreams(loadCodec);
  const [whole, bytewise] = await page.evaluate(async () => {
    const bytes = h.hex('81 05 48 65 6c 6c 6f');
    const decode = (chunks: Uint8Array[]) => h.pipe(new codec.FrameDecoderStream({ role: 'client' }), chunks);
    return [
      (await decode([bytes])).map(h.plain),
      (await decode(Array.from(bytes, (_, i) => bytes.subarray(i, i + 1)))).map(h.plain),
    ];
  });
  expect(whole).toEqual([textFrame(HELLO)]);
  expect(bytewise).toEqual([textFrame(HELLO)]);
});

test('server decodes the RFC 6455 §5.7 masked text frame "Hello"', async ({ page, loadCodec }) => {
  await loadStreams(loadCodec);
  const frames = await page.evaluate(async () => {
    const bytes = h.hex('81 85 37 fa 21 3d 7f 9f 4d 51 58');
    return (await h.pipe(new codec.FrameDecoderStream({ role: 'server' }), [bytes])).map(h.plain);
  });
  expect(frames).toEqual([textFrame(HELLO)]);
});

test('client encoder masks a text frame with a random key; a server decoder restores it', async ({ page, loadCodec }) => {
  await loadStreams(loadCodec);
  const r = await page.evaluate(async () => {
    const payload = new TextEncoder().encode('wsflow in Chromium ✓');
    const frame = { fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: codec.Opcode.Text, payload };
    const encode = async () => h.concat(await h.pipe(new codec.FrameEncoderStream({ role: 'client' }), [frame]));
    const [first, second] = [await encode(), await encode()];
    // Through a real stream chain: frames -> encoder -> decoder -> frames.
    const source = new ReadableStream({ start: (c) => (c.enqueue(frame), c.close()) });
    const chained = source
      .pipeThrough(new codec.FrameEncoderStream({ role: 'client' }))
      .pipeThrough(new codec.FrameDecoderStream({ role: 'server' }))
      .getReader();
    const decoded = [];
    for (let r = await chained.read(); !r.done; r = await chained.read()) decoded.push(h.plain(r.value));
    return {
      header: Array.from(first.subarray(0, 2)),
      length: first.length,
      payloadLength: payload.length,
      keysDiffer: first.subarray(2, 6).join() !== second.subarray(2, 6).join(),
      sent: h.plain(frame),
      decoded,
    };
  });
  expect(r.header).toEqual([0x81, 0x80 | r.payloadLength]); // FIN + Text; MASK bit + 7-bit length
  expect(r.length).toBe(2 + 4 + r.payloadLength);
  expect(r.keysDiffer).toBe(true); // a fresh key per frame (equal with probability 2^-32)
  expect(r.decoded).toEqual([r.sent]);
});

test('server encoder writes unmasked binary frames (16- and 64-bit lengths); a client decoder reads them in 7-byte chunks', async ({ page, loadCodec }) => {
  await loadStreams(loadCodec);
  const r = await page.evaluate(async () => {
    const frames = [300, 70_000].map((n) => ({
      fin: true, rsv1: false, rsv2: false, rsv3: false, opcode: codec.Opcode.Binary,
      payload: Uint8Array.from({ length: n }, (_, i) => (i * 31) & 0xff),
    }));
    const bytes = h.concat(await h.pipe(new codec.FrameEncoderStream({ role: 'server' }), frames));
    const chunks = Array.from({ length: Math.ceil(bytes.length / 7) }, (_, i) => bytes.subarray(i * 7, i * 7 + 7));
    const decoded = await h.pipe(new codec.FrameDecoderStream({ role: 'client' }), chunks);
    return {
      firstHeader: Array.from(bytes.subarray(0, 4)),
      secondHeader: Array.from(bytes.subarray(4 + 300, 4 + 300 + 10)),
      length: bytes.length,
      same: decoded.length === 2 && decoded.every((f, i) => JSON.stringify(h.plain(f)) === JSON.stringify(h.plain(frames[i]!))),
    };
  });
  expect(r.firstHeader).toEqual([0x82, 126, 0x01, 0x2c]); // 300 = 0x012c, no MASK bit
  expect(r.secondHeader).toEqual([0x82, 127, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70]); // 70000 = 0x011170
  expect(r.length).toBe(4 + 300 + 10 + 70_000);
  expect(r.same).toBe(true);
});

test('server decoder rejects an unmasked frame with close code 1002', async ({ page, loadCodec }) => {
  await loadStreams(loadCodec);
  const error = await page.evaluate(async () => {
    try {
      await h.pipe(new codec.FrameDecoderStream({ role: 'server' }), [h.hex('81 05 48 65 6c 6c 6f')]);
      return null;
    } catch (e) {
      return { name: (e as Error).name, closeCode: (e as { closeCode?: number }).closeCode };
    }
  });
  expect(error).toEqual({ name: 'ProtocolError', closeCode: 1002 });
});
