// Time to inflate (or refuse) a permessage-deflate message made of many tiny DEFLATE
// streams, each with BFINAL set (`4b 04 00` repeated), per engine and runtime.
//
//   npx node bench/hardening/multi_stream_inflate.mjs      # Node 24
//   node_modules/.bin/deno run -A bench/hardening/multi_stream_inflate.mjs
//   node_modules/.bin/bun bench/hardening/multi_stream_inflate.mjs
//
// Needs `npm run build` (imports packages/deflate-*/dist; --zlib=FILE, --js=FILE for other
// builds). Bounded: sizes 1, 4, 16 MiB (--quick: 1, 4), 3 repetitions each, and a size whose
// first run passes 20 s is not repeated.
const args = globalThis.process?.argv ?? Deno.args;
const option = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
// --zlib=FILE / --js=FILE: another build of an engine (e.g. one bundled from an older commit).
const { createZlibEngine } = await import(new URL(option('zlib', '../../packages/deflate-zlib/dist/index.js'), import.meta.url).href);
const { jsDeflateEngine } = await import(new URL(option('js', '../../packages/deflate-js/dist/index.js'), import.meta.url).href);

const runtime = typeof Deno !== 'undefined' ? `deno ${Deno.version.deno}` : typeof Bun !== 'undefined' ? `bun ${Bun.version}` : `node ${process.version}`;
const MiB = 1 << 20;
// --engine=zlib|js: one engine only.
const engines = Object.fromEntries(Object.entries({ zlib: createZlibEngine(), js: jsDeflateEngine }).filter(([name]) => option('engine', name) === name));
const sizes = args.includes('--quick') ? [1, 4] : [1, 4, 16];

function message(mib) {
  const m = new Uint8Array(mib * MiB - ((mib * MiB) % 3));
  for (let i = 0; i < m.length; i += 3) m.set([0x4b, 0x04, 0x00], i);
  return m;
}

console.log(`${runtime}: multi-stream message (4b 04 00 repeated), limit 64 MiB, ms (per MiB)`);
for (const [name, engine] of Object.entries(engines)) {
  for (const mib of sizes) {
    const data = message(mib);
    const times = [];
    let outcome = '';
    for (let rep = 0; rep < 3; rep++) {
      const inflater = engine.createInflater({ windowBits: 15, noContextTakeover: false });
      const t0 = performance.now();
      try {
        outcome = `${inflater.inflate(data, 64 * MiB).length} octets out`;
      } catch (error) {
        outcome = `refused: ${String(error?.message ?? error).slice(0, 70)}`;
      }
      times.push(performance.now() - t0);
      inflater.dispose?.();
      if (times[0] > 20000) break;
    }
    const best = Math.min(...times);
    console.log(`  ${name.padEnd(5)} ${String(mib).padStart(2)} MiB: best ${best.toFixed(1)} ms (${(best / mib).toFixed(1)} ms/MiB) of [${times.map((t) => t.toFixed(0)).join(', ')}]; ${outcome}`);
  }
}
