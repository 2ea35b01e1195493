// What an unfinished fragmented message pins: a server-role WebSocketProtocol is fed
// 65,535 one-octet fragments (masked, one per read as separate buffers, as a socket hands
// them over with mutableInput) and never the last one; the heap and ArrayBuffer growth is
// measured after a full GC, per kind (binary, text) and fragment size.
//
//   npx node --expose-gc bench/hardening/fragment_hold.mjs
//   node_modules/.bin/deno run -A --v8-flags=--expose-gc bench/hardening/fragment_hold.mjs
//   node_modules/.bin/bun bench/hardening/fragment_hold.mjs
//
// Needs `npm run build` (imports packages/codec/dist; --codec=FILE for another build).
// Bounded: 3 cases x 1 run, a few seconds in all.
const args = globalThis.process?.argv ?? Deno.args;
const option = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const { WebSocketProtocol } = await import(new URL(option('codec', '../../packages/codec/dist/index.js'), import.meta.url).href);

const runtime = typeof Deno !== 'undefined' ? `deno ${Deno.version.deno}` : typeof Bun !== 'undefined' ? `bun ${Bun.version}` : `node ${process.version}`;
const gc = globalThis.gc ?? (typeof Bun !== 'undefined' ? () => Bun.gc(true) : undefined);
if (gc === undefined) throw new Error('run with --expose-gc (Node), --v8-flags=--expose-gc (Deno)');
const MiB = 1 << 20;

function memory() {
  gc();
  gc();
  if (typeof Bun !== 'undefined') {
    // JavaScriptCore's heap size already counts typed arrays' memory ("extra memory").
    return process.memoryUsage().heapUsed;
  }
  // V8: ArrayBuffers' memory is counted in `external`.
  const m = typeof Deno !== 'undefined' ? Deno.memoryUsage() : process.memoryUsage();
  return m.heapUsed + m.external;
}

/** One masked frame (client to server) in a fresh buffer. */
function frame(opcode, fin, payload) {
  const n = payload.length;
  const head = n < 126 ? 2 : 4;
  const out = new Uint8Array(head + 4 + n);
  out[0] = (fin ? 0x80 : 0) | opcode;
  if (n < 126) out[1] = 0x80 | n;
  else {
    out[1] = 0x80 | 126;
    out[2] = n >> 8;
    out[3] = n & 0xff;
  }
  const key = [0x12, 0x34, 0x56, 0x78];
  out.set(key, head);
  for (let i = 0; i < n; i++) out[head + 4 + i] = payload[i] ^ key[i & 3];
  return out;
}

function run(kind, count, size) {
  const protocols = [];
  const before = memory();
  let sent = 0;
  // 4 connections, so that per-connection noise averages out.
  for (let c = 0; c < 4; c++) {
    const p = new WebSocketProtocol({ role: 'server', mutableInput: true, maxFragments: 1 << 20, maxMessage: 64 * MiB }, { write() {} });
    const payload = new Uint8Array(size).fill(0x61);
    for (let i = 0; i < count; i++) {
      const f = frame(i === 0 ? (kind === 'text' ? 1 : 2) : 0, false, payload);
      sent += f.length;
      p.receiveData(f);
    }
    protocols.push(p);
  }
  const held = memory() - before;
  console.log(`  ${kind.padEnd(6)} ${String(count).padStart(6)} fragments of ${String(size).padStart(5)} octets: sent ${(sent / 4 / MiB).toFixed(2)} MiB, held ${(held / 4 / MiB).toFixed(2)} MiB per connection (${(held / sent).toFixed(1)}x)`);
  return protocols.length;
}

console.log(`${runtime}: unfinished fragmented messages, held after GC`);
// --only=text|binary: one kind (JavaScriptCore's conservative stack scan may keep the
// previous case's connections alive into the next measurement, so Bun is best run per kind).
for (const kind of ['binary', 'text'].filter((k) => option('only', k) === k)) {
  run(kind, 65535, 1);
  run(kind, 4096, 1000);
}
