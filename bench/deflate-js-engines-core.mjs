// The platform-neutral half of bench/deflate-js-engines.mjs: test data, one adapter per
// candidate DEFLATE library (shaped like the codec's DeflateEngine), and the measuring loop.
// It imports nothing: the driver hands it the libraries, so the same code runs in Node and,
// bundled by esbuild, in Chromium.

/** The sync flush's tail, which permessage-deflate removes and puts back (RFC 7692 §7.2). */
const TAIL = Uint8Array.of(0x00, 0x00, 0xff, 0xff);
/** An empty final block (BFINAL 1, fixed Huffman, end-of-block): ends a DEFLATE stream. */
const FINAL_EMPTY_BLOCK = Uint8Array.of(0x03, 0x00);

function concat(chunks, extra = 0) {
  let length = extra;
  for (const c of chunks) length += c.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

function stripTail(bytes) {
  const n = bytes.length;
  if (n < 4 || bytes[n - 4] !== 0 || bytes[n - 3] !== 0 || bytes[n - 2] !== 0xff || bytes[n - 1] !== 0xff) {
    throw new Error('output does not end with a sync flush');
  }
  return n === 4 ? Uint8Array.of(0) : bytes.subarray(0, n - 4);
}

/** mulberry32: a small seeded PRNG, so every run and runtime compresses the same text. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'oscar'];
const TYPES = ['order.created', 'order.paid', 'cart.updated', 'user.login', 'price.tick', 'chat.message'];
const TAGS = ['eu', 'us', 'beta', 'mobile', 'web', 'vip', 'new', 'retry', 'bulk', 'promo'];

/**
 * `count` distinct JSON-like text messages of exactly `size` octets (ASCII): arrays of event
 * records with ids, names, numbers and timestamps, as an app would send over a WebSocket.
 */
export function jsonLikeMessages(size, count, seed = 1) {
  const encoder = new TextEncoder();
  const messages = [];
  for (let m = 0; m < count; m++) {
    const r = prng(seed * 7919 + m);
    const pick = (list) => list[Math.floor(r() * list.length)];
    const parts = [];
    let length = 1;
    let id = Math.floor(r() * 1e6);
    while (length < size) {
      const name = pick(NAMES);
      const rec =
        `{"id":${id++},"type":"${pick(TYPES)}","user":{"name":"${name}_${Math.floor(r() * 1000)}","email":"${name}@example.com"},` +
        `"active":${r() < 0.5},"score":${(r() * 10000).toFixed(2)},"qty":${Math.floor(r() * 50)},"tags":["${pick(TAGS)}","${pick(TAGS)}"],` +
        `"ts":"2025-${String(1 + Math.floor(r() * 12)).padStart(2, '0')}-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}T${String(Math.floor(r() * 24)).padStart(2, '0')}:${String(Math.floor(r() * 60)).padStart(2, '0')}:${String(Math.floor(r() * 60)).padStart(2, '0')}Z"}`;
      parts.push(rec);
      length += rec.length + 1;
    }
    messages.push(encoder.encode(`[${parts.join(',')}]`.slice(0, size)));
  }
  return messages;
}

/** An adapter over a wsflow DeflateEngine (the package's pako engine). */
export function engineAdapter(engine, label = engine.name) {
  return { name: label, async: false, takeover: true, createDeflater: (p) => engine.createDeflater(p), createInflater: (p) => engine.createInflater(p) };
}

/**
 * fflate 0.8: streaming `Deflate` with `flush(true)` (an empty stored block: a sync flush)
 * and streaming `Inflate`. Its window is always 32 KiB (no windowBits); no reset, so no
 * context takeover means a new stream per message. Inflate is fed 16 KiB slices and
 * stops past the limit, which bounds what a bomb can allocate to ~16 MiB past it.
 */
export function fflateAdapter(fflate) {
  const SLICE = 16384;
  return {
    name: 'fflate',
    async: false,
    takeover: true,
    createDeflater({ noContextTakeover, level, memLevel }) {
      let chunks = [];
      const make = () => new fflate.Deflate({ level, mem: Math.max(0, memLevel - 5) }, (c) => chunks.push(c));
      let stream = make();
      return {
        deflate(data) {
          if (noContextTakeover) stream = make();
          chunks = [];
          if (data.length) stream.push(data);
          stream.flush(true);
          return stripTail(concat(chunks));
        },
        dispose() {},
      };
    },
    createInflater({ noContextTakeover }) {
      let chunks = [];
      let produced = 0;
      const make = () => new fflate.Inflate((c) => {
        chunks.push(c);
        produced += c.length;
      });
      let stream = make();
      return {
        inflate(data, maxOutput) {
          if (noContextTakeover) stream = make();
          chunks = [];
          produced = 0;
          for (let at = 0; at < data.length; at += SLICE) {
            stream.push(data.subarray(at, at + SLICE));
            if (produced > maxOutput) throw new RangeError('limit');
          }
          stream.push(TAIL);
          if (produced > maxOutput) throw new RangeError('limit');
          return concat(chunks);
        },
        dispose() {},
      };
    },
  };
}

async function readAll(readable, maxOutput = Infinity) {
  const reader = readable.getReader();
  const chunks = [];
  let produced = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return chunks;
    chunks.push(value);
    produced += value.length;
    if (produced > maxOutput) {
      await reader.cancel();
      throw new RangeError('limit');
    }
  }
}

/**
 * CompressionStream / DecompressionStream('deflate-raw'): asynchronous, one stream per
 * message, no sync flush, no dictionary. A message is compressed to a final block plus the
 * `00` octet of RFC 7692 §7.2.3.4; a received message is closed with an empty final block
 * after the tail so that the stream can end. Only without context takeover.
 */
export function compressionStreamAdapter() {
  return {
    name: 'CompressionStream',
    async: true,
    takeover: false,
    createDeflater() {
      return {
        async deflate(data) {
          const cs = new CompressionStream('deflate-raw');
          const writer = cs.writable.getWriter();
          const done = Promise.all([writer.write(data), writer.close()]);
          const chunks = await readAll(cs.readable);
          await done;
          return concat(chunks, 1); // last octet 00: §7.2.3.4
        },
        dispose() {},
      };
    },
    createInflater() {
      return {
        async inflate(data, maxOutput) {
          const ds = new DecompressionStream('deflate-raw');
          const writer = ds.writable.getWriter();
          const done = Promise.all([writer.write(data), writer.write(TAIL), writer.write(FINAL_EMPTY_BLOCK), writer.close()]).catch(() => {});
          const chunks = await readAll(ds.readable, maxOutput);
          await done;
          return concat(chunks);
        },
        dispose() {},
      };
    },
  };
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[s.length >> 1];
}

function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Measures one adapter in one mode on one message size: rounds of `perRound` messages
 * (cycled from a pool of distinct ones) compressed with a fresh deflater, then inflated in
 * order with a fresh inflater, until `ms` milliseconds are spent (the first third untimed,
 * to warm up; at least 3 timed rounds; at most 1000 rounds in all); the first round is
 * checked byte for byte.
 * `inflateInput(messages)` may supply the payloads to inflate (CompressionStream inflates
 * sync-flushed payloads, what real peers send; its own end in a final block).
 */
export async function measure(adapter, { size, takeover, ms, now, level = 6, memLevel = 8, windowBits = 15, inflateInput }) {
  const pool = jsonLikeMessages(size, 64, size); // 64 KiB+ of distinct text: repeats fall outside a 32 KiB window
  const perRound = size <= 2048 ? 200 : 16;
  const messages = Array.from({ length: perRound }, (_, i) => pool[i % pool.length]);
  const params = { windowBits, noContextTakeover: !takeover, level, memLevel };
  const inflaterParams = { windowBits, noContextTakeover: !takeover };
  const compressTimes = [];
  const inflateTimes = [];
  let compressedBytes = 0;
  const started = now();
  let warm = false;
  for (let round = 0; round < 1000; round++) {
    const deflater = adapter.createDeflater(params);
    const outs = new Array(perRound);
    const t0 = now();
    if (adapter.async) for (let i = 0; i < perRound; i++) outs[i] = await deflater.deflate(messages[i]);
    else for (let i = 0; i < perRound; i++) outs[i] = deflater.deflate(messages[i]);
    const t1 = now();
    deflater.dispose();
    const input = inflateInput ? inflateInput(messages, params) : outs;
    const inflater = adapter.createInflater(inflaterParams);
    const back = new Array(perRound);
    const t2 = now();
    if (adapter.async) for (let i = 0; i < perRound; i++) back[i] = await inflater.inflate(input[i], 1 << 24);
    else for (let i = 0; i < perRound; i++) back[i] = inflater.inflate(input[i], 1 << 24);
    const t3 = now();
    inflater.dispose();
    if (round === 0) {
      compressedBytes = outs.reduce((n, o) => n + o.length, 0) / perRound;
      for (let i = 0; i < perRound; i++) if (!sameBytes(back[i], messages[i])) throw new Error(`${adapter.name}: message ${i} did not round-trip`);
    }
    // Warm-up (JIT): the first third of the time budget is not timed.
    if (warm) {
      compressTimes.push(((t1 - t0) * 1000) / perRound);
      inflateTimes.push(((t3 - t2) * 1000) / perRound);
      if (compressTimes.length >= 3 && now() - started >= ms) break;
    } else if (now() - started >= ms / 3) warm = true;
  }
  return {
    engine: adapter.name,
    mode: takeover ? 'context takeover' : 'no context takeover',
    size,
    compressUs: median(compressTimes),
    inflateUs: median(inflateTimes),
    compressedBytes: Math.round(compressedBytes),
    rounds: compressTimes.length,
  };
}

/**
 * Runs every adapter on every size and mode it supports. `adapters` are objects from the
 * functions above; `extra` may add rows (the driver's node:zlib reference).
 */
export async function runAll(adapters, { sizes = [1024, 65536], ms = 300, now = () => performance.now(), log = () => {}, reference } = {}) {
  const rows = [];
  for (const size of sizes) {
    for (const takeover of [true, false]) {
      for (const adapter of adapters) {
        if (takeover && !adapter.takeover) continue;
        let inflateInput;
        if (adapter.async && reference) {
          // What a peer sends: sync-flushed payloads from a zlib-style deflater.
          inflateInput = (messages, params) => {
            const d = reference.createDeflater(params);
            const out = messages.map((m) => d.deflate(m));
            d.dispose();
            return out;
          };
        }
        try {
          const row = await measure(adapter, { size, takeover, ms, now, inflateInput });
          rows.push(row);
          log(row);
        } catch (error) {
          const row = { engine: adapter.name, mode: takeover ? 'context takeover' : 'no context takeover', size, error: String(error?.message ?? error) };
          rows.push(row);
          log(row);
        }
      }
    }
  }
  return rows;
}
