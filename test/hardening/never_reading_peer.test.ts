// A peer that never reads, against Node servers with wsflow's default settings (each server
// in its own process): the server's default write-buffer limit (16 MiB plus maxMessage)
// closes the connection with 1008 instead of holding all it is asked to send. Checked on
// the hardening server sending 128 MiB without looking at bufferedAmount, and on the echo
// tool echoing what a client sends while never reading. The peer starts reading only at
// the end and must find the accepted data and then the Close 1008.
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTool, type RunningTool } from '../../tools/run_tool.ts';
import { openRaw } from '../../tools/soak/raw_client.ts';
import { ServerProcess } from '../../tools/soak/server_process.ts';
import { closeCodeOf, maskedFrame, mib, Opcode } from '../../tools/soak/wire.ts';

const MiB = 1024 * 1024;
/** Loopback socket buffers (both ends) take a few MiB; this bounds what they may hide. */
const KERNEL_SLACK = 16 * MiB;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Counts the data a server sends without keeping it: frame headers are parsed as they
 * come and payloads skipped, so reading 80 MiB back costs no copies (the peer must read
 * it all within the server's 5 s close timeout, also on a loaded machine). Only a Close
 * payload (at most 125 octets) is kept.
 */
class FrameCounter {
  data = 0;
  closeCode: number | null = null;
  #header: number[] = [];
  #skip = 0;
  #close: number[] | null = null;

  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length && this.closeCode === null) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - at);
        if (this.#close !== null) this.#close.push(...chunk.subarray(at, at + n));
        else this.data += n;
        this.#skip -= n;
        at += n;
        if (this.#skip === 0 && this.#close !== null) this.#closed();
        continue;
      }
      this.#header.push(chunk[at++]);
      const h = this.#header;
      if (h.length < 2) continue;
      const short = h[1] & 0x7f;
      const size = short === 126 ? 4 : short === 127 ? 10 : 2;
      if (h.length < size) continue;
      const length = short === 126 ? (h[2] << 8) | h[3] : short === 127 ? h.slice(2, 10).reduce((n, b) => n * 256 + b, 0) : short;
      const opcode = h[0] & 0x0f;
      this.#header = [];
      this.#skip = length;
      this.#close = opcode === Opcode.Close ? [] : null;
      if (length === 0 && this.#close !== null) this.#closed();
    }
  }

  #closed(): void {
    this.closeCode = closeCodeOf(Uint8Array.from(this.#close ?? []));
  }
}

/** Reads until a Close, the end, `expected` data bytes, or `ms`: the data bytes and the Close code (null: none). */
function readBack(socket: Socket, leftover: Uint8Array, expected: number, ms: number): Promise<{ data: number; closeCode: number | null }> {
  return new Promise((resolve) => {
    const counter = new FrameCounter();
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data: counter.data, closeCode: counter.closeCode });
    };
    const feed = (chunk: Uint8Array): void => {
      counter.push(chunk);
      if (counter.closeCode !== null || counter.data >= expected) finish();
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

describe('a peer that never reads, on Node servers with the default settings', () => {
  let server: ServerProcess | null = null;
  let echo: RunningTool | null = null;
  afterEach(async () => {
    await server?.stop();
    server = null;
    if (echo !== null && echo.child.exitCode === null) {
      echo.child.kill('SIGTERM');
      await echo.exited;
    }
    echo = null;
  });

  it('a server sending 128 MiB regardless is stopped with a Close 1008 past 32 MiB queued, its RSS growing by less than 64 MiB', async () => {
    server = await ServerProcess.start('node', { limits: 'default' });
    const rssBefore = (await server.rss()) ?? 0;
    const id = `never-reads-${Date.now()}`;
    const { socket, leftover } = await openRaw(server.port, { path: `/flood?id=${id}&mode=unguarded&bytes=${128 * MiB}&chunk=65536` });
    socket.on('error', () => {});
    let rssPeak = rssBefore;
    let flood;
    for (const started = Date.now(); Date.now() - started < 20_000; ) {
      await sleep(100);
      rssPeak = Math.max(rssPeak, (await server.rss()) ?? 0);
      flood = (await server.stats()).floods.find((f) => f.id === id);
      if (flood?.ended === true) break;
    }
    expect(flood?.ended).toBe(true);
    const accepted = flood!.accepted;
    // The server's loop ended because send() returned false: closing had started.
    expect(accepted).toBeGreaterThan(32 * MiB - KERNEL_SLACK);
    expect(accepted).toBeLessThan(32 * MiB + KERNEL_SLACK);
    const read = await readBack(socket, leftover, 128 * MiB, 15_000);
    console.log(
      `never-reading peer, node: accepted ${mib(accepted)} of 128 MiB; RSS ${mib(rssBefore)} -> peak ${mib(rssPeak)} MiB; ` +
        `peer read ${mib(read.data)} MiB then Close ${read.closeCode}`,
    );
    // Everything accepted reached the peer, then the Close 1008 (Policy Violation).
    expect(read.data).toBe(accepted);
    expect(read.closeCode).toBe(1008);
    expect(rssPeak - rssBefore).toBeLessThan(64 * MiB);
  }, 60_000);

  it('the echo tool closes a client that keeps sending but never reads with 1008, past its 80 MiB limit', async () => {
    echo = await startTool('echo.ts', ['--runtime', 'node', '--port', '0'], { startTimeout: 20_000, timeout: 60_000 });
    const port = Number(new URL(echo.url).port);
    const { socket, leftover } = await openRaw(port);
    socket.on('error', () => {});
    // 100 messages of 1 MiB: 80 MiB (16 MiB + the tool's 64 MiB maxMessage) plus more than the socket buffers hold.
    const frame = maskedFrame(Opcode.Binary, new Uint8Array(MiB).fill(0x5a), { maskKey: Uint8Array.of(1, 2, 3, 4) });
    const count = 100;
    let written = 0;
    for (let i = 0; i < count && !socket.destroyed; i++) {
      if (!socket.write(frame)) await new Promise<void>((resolve) => socket.once('drain', resolve).once('close', resolve));
      written += MiB;
    }
    expect(written).toBe(count * MiB);
    const read = await readBack(socket, leftover, written, 15_000);
    console.log(`never-reading peer, echo tool on node: sent ${mib(written)} MiB; read ${mib(read.data)} MiB of echoes then Close ${read.closeCode}`);
    expect(read.closeCode).toBe(1008);
    expect(read.data).toBeGreaterThanOrEqual(80 * MiB - KERNEL_SLACK);
    expect(read.data).toBeLessThan(written);
  }, 60_000);
});
