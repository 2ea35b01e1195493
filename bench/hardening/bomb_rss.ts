/**
 * Peak RSS of a wsflow echo server (the deflate interop peer: `test/deflate/peers/js_peer.ts`)
 * on Node, Deno or Bun under a sequence of decompression bombs at a `maxMessage` limit:
 * each bomb is a fresh connection sending one permessage-deflate message of zeros that
 * inflates to 4 times the limit, which the server must refuse with 1009. Reports the peak
 * (`VmHWM`, reset through /proc/<pid>/clear_refs) and the RSS after, above the baseline.
 *
 *   npm run build
 *   npx node bench/hardening/bomb_rss.ts [--runtime node|deno|bun] [--bombs 32] [--limit-mib 64] [--concurrent 1]
 *
 * Bounded: 32 bombs one after another by default, a few seconds per runtime.
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { zeroBomb } from '../../packages/deflate-zlib/test/support/bits.ts';
import { jsPeer, RUNTIMES, type Runtime } from '../../test/deflate/peers.ts';
import { RawClient } from '../../test/deflate/raw_client.ts';

const MiB = 1024 * 1024;
const argv = process.argv.slice(2);
const arg = (name: string, fallback: string): string => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1]! : fallback);
const runtimes = (argv.includes('--runtime') ? [arg('runtime', 'node')] : RUNTIMES) as Runtime[];
const bombs = Number(arg('bombs', '32'));
const limit = Number(arg('limit-mib', '64')) * MiB;
const concurrent = Number(arg('concurrent', '1'));

/** Zeros inflating to 4 times the limit: a literal, then 258-octet matches at distance 1, without its 00 00 ff ff. */
const BOMB = ((): Uint8Array => {
  const whole = zeroBomb(Math.ceil((4 * limit) / 258));
  return whole.subarray(0, whole.length - 4);
})();

function procKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no ${field} for ${pid}`);
  return Number(match[1]);
}

async function sendBomb(port: number): Promise<number | null> {
  const client = await RawClient.open(port, ['permessage-deflate']);
  try {
    client.send({ fin: true, rsv1: true, rsv2: false, rsv3: false, opcode: 2, payload: BOMB });
    return await client.closeCode(Date.now() + 30_000);
  } finally {
    client.destroy();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

console.log(`${bombs} bombs (${(BOMB.length / 1024).toFixed(0)} KiB, inflating to ${(4 * limit) / MiB} MiB), maxMessage ${limit / MiB} MiB, ${concurrent} at a time`);
for (const runtime of runtimes) {
  const peer = await jsPeer(runtime);
  try {
    const port = (await peer.serve('wsflow', { on: true }, { maxMessage: limit, maxPayload: 16 * MiB }))['on']!;
    const { pid } = await peer.status!();
    // Warm up: one small compressed exchange is not needed; one bomb would be. Measure from idle.
    await sleep(500);
    const baseline = procKiB(pid, 'VmRSS');
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    const codes = new Map<number | null, number>();
    const t0 = performance.now();
    const samples: number[] = [];
    for (let sent = 0; sent < bombs; sent += concurrent) {
      const batch = await Promise.all(Array.from({ length: Math.min(concurrent, bombs - sent) }, () => sendBomb(port)));
      for (const code of batch) codes.set(code, (codes.get(code) ?? 0) + 1);
      samples.push(procKiB(pid, 'VmRSS'));
    }
    const ms = performance.now() - t0;
    const peak = procKiB(pid, 'VmHWM');
    await sleep(1000);
    const after = procKiB(pid, 'VmRSS');
    const mib = (kib: number): string => (kib / 1024).toFixed(0);
    console.log(
      `  ${runtime}: closes ${[...codes].map(([c, n]) => `${n}x ${c}`).join(', ')} in ${(ms / 1000).toFixed(1)} s; baseline ${mib(baseline)} MiB, ` +
        `peak +${mib(peak - baseline)} MiB (${((peak - baseline) * 1024 / limit).toFixed(2)}x maxMessage), after +${mib(after - baseline)} MiB; ` +
        `RSS after each bomb +${samples.map((s) => mib(s - baseline)).join(' +')}`,
    );
  } finally {
    await peer.stop();
  }
}
