/**
 * What a server connection holds when its peer never reads: the soak server
 * (tools/soak/server.ts, wsflow's defaults with `--limits default`) runs in its own process
 * under Node, Deno or Bun and sends `--bytes` (default 128 MiB) in fresh, filled 64 KiB
 * messages with `send()` in a loop, ignoring `bufferedAmount` (the `unguarded` flood), to a
 * raw client that completes the handshake and does not read. Reported per runtime: payload
 * bytes the server accepted, its `bufferedAmount` when the flood ended or stalled, its RSS
 * before and at the peak; then the client reads what reaches it and reports the data bytes
 * and the Close code it got (none: no Close arrived before the connection ended).
 *
 * Bounded: the flood is watched for at most 30 s, the read-back for at most 15 s; the server
 * is ended by its own pid. Build first (`npm run build`): the server imports `dist/`.
 *
 * ```sh
 * node bench/never_reading_peer.mjs [--runtime node,deno,bun] [--bytes 134217728] [--limits default|echo]
 * ```
 */
import { parseArgs } from 'node:util';
import { openRaw } from '../tools/soak/raw_client.ts';
import { ServerProcess } from '../tools/soak/server_process.ts';
import { closeCodeOf, mib, Opcode, ServerFrameReader } from '../tools/soak/wire.ts';

const { values } = parseArgs({
  options: {
    runtime: { type: 'string', default: 'node,deno,bun' },
    bytes: { type: 'string', default: String(128 * 1024 * 1024) },
    limits: { type: 'string', default: 'default' },
  },
});
const bytes = Number(values.bytes);
if (!Number.isInteger(bytes) || bytes <= 0 || bytes > 2 ** 31) throw new RangeError('--bytes must be a positive integer up to 2 GiB');
const limits = values.limits === 'echo' ? 'echo' : 'default';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads the socket until it ends or `ms` pass: data payload bytes and the Close code, if any. */
function readBack(socket, leftover, ms) {
  return new Promise((resolve) => {
    const reader = new ServerFrameReader(64 * 1024 * 1024);
    let data = 0;
    let closeCode = null;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data, closeCode });
    };
    const feed = (chunk) => {
      for (const frame of reader.push(chunk)) {
        if (frame.opcode === Opcode.Close) {
          closeCode = closeCodeOf(frame.payload);
          finish();
          return;
        }
        if (frame.opcode === Opcode.Binary || frame.opcode === Opcode.Text || frame.opcode === Opcode.Continuation) data += frame.payload.length;
      }
    };
    const timer = setTimeout(finish, ms);
    socket.on('data', feed);
    socket.on('end', finish);
    socket.on('close', finish);
    socket.on('error', finish);
    if (leftover.length > 0) feed(leftover);
    socket.resume();
  });
}

for (const runtime of values.runtime.split(',')) {
  const server = await ServerProcess.start(runtime, { limits });
  try {
    const rssBefore = (await server.rss()) ?? 0;
    const id = `never-reads-${Date.now()}`;
    const { socket, leftover } = await openRaw(server.port, { path: `/flood?id=${id}&mode=unguarded&bytes=${bytes}&chunk=65536` });
    socket.on('error', () => {});
    let rssPeak = rssBefore;
    let flood;
    let last = -1;
    let since = Date.now();
    const started = Date.now();
    while (Date.now() - started < 30_000) {
      await sleep(100);
      rssPeak = Math.max(rssPeak, (await server.rss()) ?? 0);
      flood = (await server.stats()).floods.find((f) => f.id === id);
      if (flood === undefined) continue;
      if (flood.ended) break;
      if (flood.accepted !== last) {
        last = flood.accepted;
        since = Date.now();
      } else if (Date.now() - since > 1500) break;
    }
    if (flood === undefined) throw new Error(`${runtime}: the flood never started`);
    const read = await readBack(socket, leftover, 15_000);
    await sleep(300);
    const after = (await server.stats()).floods.find((f) => f.id === id);
    console.log(
      `${runtime.padEnd(4)} asked ${mib(bytes)} MiB: accepted ${mib(flood.accepted)} MiB, bufferedAmount ${mib(flood.buffered)} MiB, ` +
        `flood ${flood.ended ? 'ended' : 'stalled'}; RSS ${mib(rssBefore)} -> peak ${mib(rssPeak)} MiB (+${mib(rssPeak - rssBefore)}); ` +
        `client read ${mib(read.data)} MiB then Close ${read.closeCode ?? 'none'}; server closeCode ${after?.closeCode ?? 'open'}`,
    );
  } finally {
    await server.stop();
  }
}
