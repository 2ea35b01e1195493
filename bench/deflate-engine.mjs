#!/usr/bin/env node
// permessage-deflate engines, per message, sequential: @wsflow/deflate-zlib (one
// synchronous zlib call per message, context takeover through a preset dictionary of the
// last K octets) for several K, against a long-lived async zlib stream flushed with
// Z_SYNC_FLUSH after each message (what ws does), on 1 KiB and 64 KiB JSON-like text.
//
//   npx node bench/deflate-engine.mjs [--level=6] [--ms=60] [--reps=3] [--sizes=1024,65536]
//                                     [--history=0,1024,4096,8192,16384,32768] [--clock=cpu|wall]
//
// Also runs under Bun (`npx bun bench/deflate-engine.mjs`) and Deno
// (`npx deno run -A bench/deflate-engine.mjs`). Needs `npm run build` (imports dist).
// Each cell is the median of --reps timed passes of about --ms milliseconds each over a
// sequence of distinct messages (a feed of updates sharing keys and shapes); the passes of
// all engines are interleaved, rotating their order, so that load from other processes
// spreads over all of them. The clock is the process's CPU time (user + system, every
// thread: the stream engine's work runs on the libuv pool) unless --clock=wall. A run
// takes about 10 seconds. Columns: deflate µs/msg, compressed bytes/msg (and % of the input),
// inflate µs/msg (inflating that engine's own output; the stream inflater reads the
// stream deflater's). Every engine's output is checked to inflate back to the input.
import * as zlib from 'node:zlib';
import { createZlibEngine } from '../packages/deflate-zlib/dist/index.js';

const args = Object.fromEntries(
  (globalThis.process?.argv ?? []).slice(2).map((a) => {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a}`);
    return [m[1], m[2] ?? 'true'];
  }),
);
const level = Number(args.level ?? 6);
const ms = Number(args.ms ?? 60);
const reps = Number(args.reps ?? 3);
const cpuClock = (args.clock ?? 'cpu') === 'cpu' && typeof globalThis.process?.cpuUsage === 'function';
/** Microseconds on the chosen clock. */
const now = cpuClock
  ? () => {
      const u = process.cpuUsage();
      return u.user + u.system;
    }
  : () => performance.now() * 1000;
const sizes = (args.sizes ?? '1024,65536').split(',').map(Number);
const histories = (args.history ?? '0,1024,4096,8192,16384,32768').split(',').map(Number);
const runtime = globalThis.Deno ? `deno ${Deno.version.deno}` : globalThis.Bun ? `bun ${Bun.version}` : `node ${process.version}`;
const { Z_SYNC_FLUSH } = zlib.constants;
const TAIL = Uint8Array.of(0, 0, 0xff, 0xff);

/** Deterministic PRNG (xorshift32), so every run compresses the same text. */
function prng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

/** Message `i` of a feed: JSON objects with recurring keys, enum-like values and varying numbers, cut to `size` octets. */
function feed(count, size, seed) {
  const rnd = prng(seed);
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const out = [];
  for (let i = 0; i < count; i++) {
    let s = `{"type":"update","seq":${i},"items":[`;
    for (let k = 0; s.length < size; k++) {
      s += JSON.stringify({
        id: Math.floor(rnd() * 1e9),
        user: `${pick(words)}_${Math.floor(rnd() * 10000)}`,
        ts: 1732000000000 + i * 1000 + Math.floor(rnd() * 1000),
        price: Math.round(rnd() * 1e6) / 100,
        side: pick(['buy', 'sell']),
        status: pick(['open', 'filled', 'cancelled', 'partial']),
        tags: [pick(words), pick(words)],
        note: rnd() < 0.3 ? `${pick(words)} ${pick(words)} ${pick(words)}` : null,
      }) + ',';
    }
    out.push(new TextEncoder().encode(s.slice(0, size)));
  }
  return out;
}

const equal = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

/** µs per message of one pass running `step(i)` over the messages until ~ms of wall time elapsed. */
async function pass(count, step) {
  let n = 0;
  const deadline = performance.now() + ms;
  const t0 = now();
  do {
    for (let i = 0; i < count; i++, n++) await step(i);
  } while (performance.now() < deadline);
  return (now() - t0) / n;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function syncCase(messages, history) {
  const engine = createZlibEngine({ deflateHistory: history });
  const params = { windowBits: 15, noContextTakeover: false, level, memLevel: 8 };
  // One pass to get the payloads (and check them); later passes run on fresh contexts.
  let deflater = engine.createDeflater(params);
  const payloads = messages.map((m) => deflater.deflate(m));
  const inflater = engine.createInflater({ windowBits: 15, noContextTakeover: false });
  payloads.forEach((p, i) => {
    if (!equal(inflater.inflate(p, 1 << 24), messages[i])) throw new Error(`K=${history}: message ${i} did not round-trip`);
  });
  const bytes = payloads.reduce((s, p) => s + p.length, 0) / payloads.length;
  return {
    bytes,
    deflate: () => pass(messages.length, (i) => {
      if (i === 0) deflater = engine.createDeflater(params);
      deflater.deflate(messages[i]);
    }),
    inflate: () => {
      let inf;
      return pass(payloads.length, (i) => {
        if (i === 0) inf = engine.createInflater({ windowBits: 15, noContextTakeover: false });
        inf.inflate(payloads[i], 1 << 24);
      });
    },
  };
}

/** ws's way: one long-lived zlib stream per direction, a sync flush per message, awaited. */
function streamStep(stream, input) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    const onData = (c) => chunks.push(c);
    stream.on('data', onData);
    stream.once('error', reject);
    stream.write(input);
    stream.flush(Z_SYNC_FLUSH, () => {
      stream.off('data', onData);
      stream.off('error', reject);
      resolve(Buffer.concat(chunks));
    });
  });
}

async function streamCase(messages) {
  let d = zlib.createDeflateRaw({ windowBits: 15, level, memLevel: 8 });
  const payloads = [];
  for (const m of messages) {
    const out = await streamStep(d, m);
    payloads.push(out.subarray(0, out.length - 4));
  }
  d.close();
  let inf = zlib.createInflateRaw({ windowBits: 15 });
  for (let i = 0; i < payloads.length; i++) {
    const out = await streamStep(inf, Buffer.concat([payloads[i], TAIL]));
    if (!equal(out, messages[i])) throw new Error(`stream: message ${i} did not round-trip`);
  }
  inf.close();
  const bytes = payloads.reduce((s, p) => s + p.length, 0) / payloads.length;
  return {
    bytes,
    deflate: async () => {
      let def;
      const r = await pass(messages.length, (i) => {
        if (i === 0) {
          def?.close();
          def = zlib.createDeflateRaw({ windowBits: 15, level, memLevel: 8 });
        }
        return streamStep(def, messages[i]);
      });
      def.close();
      return r;
    },
    inflate: async () => {
      let inf2;
      const r = await pass(payloads.length, (i) => {
        if (i === 0) {
          inf2?.close();
          inf2 = zlib.createInflateRaw({ windowBits: 15 });
        }
        return streamStep(inf2, Buffer.concat([payloads[i], TAIL]));
      });
      inf2.close();
      return r;
    },
  };
}

const fmt = (v, w, d = 1) => v.toFixed(d).padStart(w);
console.log(`deflate engines, ${runtime}, level ${level}, windowBits 15, context takeover; median of ${reps} x ${ms} ms, ${cpuClock ? 'CPU' : 'wall'} clock`);
console.log(`${'size'.padEnd(7)}${'engine'.padEnd(30)}${'deflate µs'.padStart(11)}${'bytes'.padStart(9)}${'ratio'.padStart(7)}${'inflate µs'.padStart(12)}`);
for (const size of sizes) {
  const count = size <= 4096 ? 400 : 24;
  const messages = feed(count, size, 0x9e3779b9 ^ size);
  const cases = histories.map((k) => ({ name: `deflate-zlib K=${k}`, ...syncCase(messages, k) }));
  cases.push({ name: 'zlib stream + flush (ws way)', ...(await streamCase(messages)) });
  const results = cases.map(() => ({ deflate: [], inflate: [] }));
  for (const c of cases) {
    await c.deflate(); // warm-up pass
    await c.inflate();
  }
  for (let r = 0; r < reps; r++) {
    for (let j = 0; j < cases.length; j++) {
      const at = (j + r) % cases.length;
      results[at].deflate.push(await cases[at].deflate());
      results[at].inflate.push(await cases[at].inflate());
    }
  }
  cases.forEach((c, j) => {
    const d = median(results[j].deflate);
    const inf = median(results[j].inflate);
    console.log(`${(size >= 1024 ? `${size / 1024} KiB` : `${size} B`).padEnd(7)}${c.name.padEnd(30)}${fmt(d, 11)}${fmt(c.bytes, 9, 0)}${fmt((100 * c.bytes) / size, 6)}%${fmt(inf, 12)}`);
  });
}
