#!/usr/bin/env node
// The server's receive path alone, in one process, without sockets: masked binary frames
// of one size, cut into fresh 64 KiB Buffers (what a Node socket hands over per read), fed
// to wsflow's WebSocketProtocol (mutableInput, Buffer.allocUnsafe payloads: as
// @wsflow/node sets it up) or to ws's Receiver (with bufferutil when installed). The last
// 16 messages are kept alive, as a write queue would keep echoed ones. Prints CPU per
// message (user and system, from process.resourceUsage) and minor page faults per message.
// Steadier than the socket benchmark for comparing receive paths, since the kernel's share
// of the work (socket reads and writes, which dominates there) is left out.
//
//   npx node bench/node/receive.mjs [--impl=wsflow|ws] [--size=65536] [--count=N] [--reps=3]
//                                   [--codec=src|dist|PATH]
//
// Each repetition runs in a fresh child process (a fresh malloc heap), alternating between
// implementations when --impl is not given. The chunk building is the same for both and
// is included in the user CPU (it is a copy of the frame bytes: about a tenth of the total).
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolveCodec } from '../lib/resolve-codec.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unknown argument ${a}`);
    return [m[1], m[2] ?? true];
  }),
);
const SIZE = Number(args.size ?? 65536);
const COUNT = Number(args.count ?? Math.max(200, Math.round((2 * 1024 ** 3) / SIZE)));
const CHUNK = 65536;

if (process.env.RECEIVE_CHILD === undefined) {
  // ---- the parent: one child per repetition and implementation, then medians ----------------
  const impls = typeof args.impl === 'string' ? [args.impl] : ['wsflow', 'ws'];
  const reps = Number(args.reps ?? 3);
  const codec = await resolveCodec(args.codec);
  const rows = Object.fromEntries(impls.map((i) => [i, []]));
  for (let rep = 0; rep < reps; rep++) {
    for (const impl of rep % 2 === 0 ? impls : [...impls].reverse()) {
      const child = fork(fileURLToPath(import.meta.url), process.argv.slice(2), {
        env: { ...process.env, RECEIVE_CHILD: impl, RECEIVE_CODEC: codec.path },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const result = await new Promise((resolve, reject) => {
        child.once('message', resolve);
        child.once('exit', (code) => reject(new Error(`${impl} child exited (${code}) without a result`)));
      });
      rows[impl].push(result);
      console.log(
        `  ${impl.padEnd(7)} ${SIZE} B x ${result.messages}: user ${result.userUs.toFixed(1)} µs/msg, system ${result.systemUs.toFixed(1)} µs/msg, ` +
          `${result.faults.toFixed(1)} page faults/msg`,
      );
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  console.log(`\nmedians (${reps} runs each; codec: ${codec.from}):`);
  for (const impl of impls) {
    const r = rows[impl];
    console.log(
      `  ${impl.padEnd(7)} user ${median(r.map((x) => x.userUs)).toFixed(1)} µs/msg, system ${median(r.map((x) => x.systemUs)).toFixed(1)} µs/msg, ` +
        `${median(r.map((x) => x.faults)).toFixed(1)} page faults/msg`,
    );
  }
} else {
  // ---- a child: one implementation, measured once ------------------------------------------
  const impl = process.env.RECEIVE_CHILD;
  const require = createRequire(import.meta.url);
  // One masked binary frame (mask key 01 02 03 04), built here, not by either library.
  const payload = Buffer.alloc(SIZE);
  for (let i = 0; i < SIZE; i++) payload[i] = (i * 31) & 0xff;
  const len = SIZE < 126 ? [SIZE] : SIZE < 65536 ? [126, SIZE >> 8, SIZE & 0xff] : [127, 0, 0, 0, 0, SIZE >>> 24, (SIZE >>> 16) & 0xff, (SIZE >>> 8) & 0xff, SIZE & 0xff];
  const head = Buffer.from([0x82, 0x80 | len[0], ...len.slice(1), 1, 2, 3, 4]);
  const key = [1, 2, 3, 4];
  const masked = Buffer.from(payload.map((b, i) => b ^ key[i & 3]));
  const frame = Buffer.concat([head, masked]);

  const kept = [];
  let received = 0;
  let octets = 0;
  const onMessage = (data) => {
    received++;
    octets += data.length;
    kept.push(data);
    if (kept.length > 16) kept.shift();
  };
  let push;
  if (impl === 'ws') {
    const Receiver = require(require.resolve('ws').replace(/index\.js$/, 'lib/receiver.js'));
    const receiver = new Receiver({ isServer: true, maxPayload: 0 });
    receiver.on('message', onMessage);
    push = (chunk) => receiver.write(chunk);
  } else {
    const { WebSocketProtocol } = await import(pathToFileURL(process.env.RECEIVE_CODEC).href);
    const protocol = new WebSocketProtocol(
      { role: 'server', maxPayload: 1 << 30, mutableInput: true, allocate: (n) => Buffer.allocUnsafe(n) },
      { write() {}, onBinary: onMessage },
    );
    push = (chunk) => protocol.receiveData(chunk);
  }
  /** Feeds `n` frames back to back, in fresh 64 KiB chunks. */
  const run = (n) => {
    const total = frame.length * n;
    let sent = 0;
    while (sent < total) {
      const chunk = Buffer.allocUnsafe(CHUNK);
      let filled = 0;
      while (filled < CHUNK && sent < total) {
        const at = sent % frame.length;
        const take = Math.min(CHUNK - filled, frame.length - at, total - sent);
        frame.copy(chunk, filled, at, at + take);
        filled += take;
        sent += take;
      }
      push(filled === CHUNK ? chunk : chunk.subarray(0, filled));
    }
  };
  run(Math.max(20, COUNT >> 4)); // warm-up
  const first = kept[kept.length - 1];
  if (first === undefined || first.length !== SIZE || !first.equals(payload)) throw new Error(`${impl}: the message differs from what was sent`);
  const before = process.resourceUsage();
  const startCount = received;
  run(COUNT);
  const after = process.resourceUsage();
  const messages = received - startCount;
  if (messages !== COUNT) throw new Error(`${impl}: ${messages} messages of ${COUNT}`);
  process.send({
    messages,
    userUs: (after.userCPUTime - before.userCPUTime) / messages,
    systemUs: (after.systemCPUTime - before.systemCPUTime) / messages,
    faults: (after.minorPageFault - before.minorPageFault) / messages,
  });
  process.disconnect();
}
