/**
 * Decompression bombs against wsflow's server on Node, Deno and Bun, each in its own
 * process with `maxMessage` 1 MiB: 64 MiB of zeros deflated to about 64 KiB (node:zlib
 * `deflateRawSync` ending with a sync flush, `00 00 ff ff` removed, RFC 7692 §7.2.1), sent
 * masked with RSV1 by a raw client, whole and in fragments. The server must close with 1009
 * (RFC 6455 §7.4.1) having inflated no more than about the limit: its peak resident set
 * (`VmHWM` in /proc/<pid>/status, reset through /proc/<pid>/clear_refs first) grows by far
 * less than the 64 MiB a full inflation would take, for five bombs at once. It then keeps serving.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { constants, deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullPlan } from './plan.ts';
import { jsPeer, RUNTIMES, type Peer, type Runtime } from './peers.ts';
import { RawClient } from './raw_client.ts';

const MiB = 1024 * 1024;
const BOMB_SIZE = 64 * MiB;
const MAX_MESSAGE = MiB;
/** Bombs sent at once. */
const CONCURRENT = 5;

/** 64 MiB of zeros as one permessage-deflate message payload. */
const BOMB = ((): Uint8Array => {
  const deflated = deflateRawSync(Buffer.alloc(BOMB_SIZE), { finishFlush: constants.Z_SYNC_FLUSH, level: 9 });
  return deflated.subarray(0, deflated.length - 4); // the trailing 00 00 ff ff
})();

const peers = new Map<Runtime, Peer>();
const ports = new Map<Runtime, number>();
const pids = new Map<Runtime, number>();
const findings: string[] = [];

beforeAll(async () => {
  await Promise.all(
    RUNTIMES.map(async (runtime) => {
      const peer = await jsPeer(runtime);
      peers.set(runtime, peer);
      ports.set(runtime, (await peer.serve('wsflow', { on: true }, { maxMessage: MAX_MESSAGE }))['on']);
      pids.set(runtime, (await peer.status!()).pid);
    }),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all([...peers.values()].map((peer) => peer.stop()));
  console.log(`decompression bombs (${(BOMB.length / 1024).toFixed(0)} KiB inflating to 64 MiB, maxMessage 1 MiB):\n${findings.join('\n')}`);
});

/** A /proc/<pid>/status field in KiB. */
function procKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match === null) throw new Error(`no ${field} for ${pid}`);
  return Number(match[1]);
}

/** Resets the peak RSS (VmHWM) to the current RSS; false where the kernel does not allow it. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Sends the bomb on a fresh connection, whole or as `fragments` frames; resolves with the Close code. */
async function sendBomb(port: number, fragments: number): Promise<number | null> {
  const client = await RawClient.open(port, ['permessage-deflate']);
  try {
    expect(client.extensions).toBe('permessage-deflate');
    const step = Math.ceil(BOMB.length / fragments);
    for (let i = 0; i < fragments; i++) {
      const payload = BOMB.subarray(i * step, Math.min(BOMB.length, (i + 1) * step));
      // RFC 7692 §6.1: RSV1 on the first frame of the message only.
      client.send({ fin: i === fragments - 1, rsv1: i === 0, rsv2: false, rsv3: false, opcode: i === 0 ? 2 : 0, payload });
    }
    return await client.closeCode(Date.now() + 20_000);
  } finally {
    client.destroy();
  }
}

describe.each(RUNTIMES)('wsflow server on %s', (runtime: Runtime) => {
  it(`closes with 1009 on ${CONCURRENT} bombs at once, whole and fragmented, without inflating them`, async () => {
    const pid = pids.get(runtime)!;
    const port = ports.get(runtime)!;
    const before = procKiB(pid, 'VmRSS');
    const peakReset = resetPeak(pid);
    const peakBefore = procKiB(pid, 'VmHWM');
    const codes = await Promise.all(Array.from({ length: CONCURRENT }, (_, i) => sendBomb(port, i % 2 === 0 ? 1 : 16)));
    expect(codes).toEqual(Array(CONCURRENT).fill(1009));
    const after = procKiB(pid, 'VmRSS');
    const peak = procKiB(pid, 'VmHWM');
    const growth = (peak - Math.max(peakBefore, before)) / 1024;
    findings.push(
      `  ${runtime}: closes ${codes.join(',')}; RSS ${(before / 1024).toFixed(1)} -> ${(after / 1024).toFixed(1)} MiB, ` +
        `peak ${peakReset ? 'since reset' : 'since start'} ${(peak / 1024).toFixed(1)} MiB (growth ${growth.toFixed(1)} MiB for ${CONCURRENT} × 64 MiB bombs)`,
    );
    // One whole inflation would be 64 MiB; the limit lets each connection hold about 1 MiB.
    expect(growth, 'peak RSS growth in MiB').toBeLessThan(48);
    expect((after - before) / 1024, 'RSS growth in MiB').toBeLessThan(48);

    // It keeps serving, with compression.
    const plan = fullPlan().filter((item) => item.size <= 64 * 1024 && item.count === undefined);
    const result = await peers.get(runtime)!.run('wsflow', `ws://127.0.0.1:${port}/echo`, true, plan, 20_000);
    expect([result.matched, result.sent, result.extensions]).toEqual([plan.length, plan.length, 'permessage-deflate']);
  }, 60_000);
});
