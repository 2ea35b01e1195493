// A Ping flood from a peer that never reads: how many octets of Pongs a server-role
// WebSocketConnection queues on its transport, for 24 MiB of 125-octet Pings in 64 KiB
// reads, and which Ping the Pong sent after the queue drains answers.
//
//   npx node bench/hardening/pong_flood.mjs
//   node_modules/.bin/deno run -A bench/hardening/pong_flood.mjs
//   node_modules/.bin/bun bench/hardening/pong_flood.mjs
//
// Needs `npm run build` (imports packages/codec/dist; --codec=FILE for another build).
// Bounded: one run of 24 MiB, a second or two.
const args = globalThis.process?.argv ?? Deno.args;
const option = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const { WebSocketConnection } = await import(new URL(option('codec', '../../packages/codec/dist/index.js'), import.meta.url).href);

const runtime = typeof Deno !== 'undefined' ? `deno ${Deno.version.deno}` : typeof Bun !== 'undefined' ? `bun ${Bun.version}` : `node ${process.version}`;
const MiB = 1 << 20;

const transport = {
  queued: [],
  bufferedAmount: 0,
  write(chunk) {
    this.queued.push(chunk);
    this.bufferedAmount += chunk.length;
  },
  writev(chunks) {
    for (const c of chunks) this.write(c);
  },
  end() {},
  destroy() {},
  pause() {},
  resume() {},
};
const connection = new WebSocketConnection(transport, { role: 'server', timers: { setTimeout, clearTimeout } });

// One read of Pings: 125-octet payloads numbered in their first 4 octets, masked with key 0.
const PING = 2 + 4 + 125;
const perRead = Math.floor((64 * 1024) / PING);
let sent = 0;
let number = 0;
const t0 = performance.now();
while (sent < 24 * MiB) {
  const read = new Uint8Array(perRead * PING);
  for (let i = 0; i < perRead; i++) {
    const at = i * PING;
    read[at] = 0x89;
    read[at + 1] = 0x80 | 125;
    new DataView(read.buffer).setUint32(at + 6, number++);
  }
  connection.receive(read);
  sent += read.length;
}
const ms = performance.now() - t0;
const queued = transport.bufferedAmount;
const frames = transport.queued.length;
// The peer reads: the queue drains.
transport.queued = [];
transport.bufferedAmount = 0;
connection.drain();
const after = transport.queued.map((c) => new DataView(c.buffer, c.byteOffset).getUint32(2));
console.log(
  `${runtime}: ${(sent / MiB).toFixed(1)} MiB of Pings (${number}) to a peer that does not read: ` +
    `${(queued / MiB).toFixed(2)} MiB of Pongs queued in ${frames} writes, ${ms.toFixed(0)} ms; ` +
    `after the drain: ${after.length === 0 ? 'nothing' : `Pong for Ping #${after.join(', #')} (last was #${number - 1})`}`,
);
