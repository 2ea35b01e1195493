// A pending close keeps the process alive: a script ending with `await server.close()`,
// while a connection waits out its closeTimeout with its socket paused, exits 0 once the
// timeout settles it — not early with the await unsettled (Node's exit code 13). The
// close timer is the only thing left holding the process then; heartbeats stay unref'd.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = (name: string): string => join(ROOT, 'node_modules/.bin', name);
const SCRIPT = 'test/process_exit/close_then_exit.ts';
const NODE = existsSync(bin('node')) ? bin('node') : process.execPath;

const runtimes: Array<[string, string, string[]]> = [
  ['node', NODE, [SCRIPT]],
  ['deno', bin('deno'), ['run', '-A', '--no-lock', '--no-remote', SCRIPT]],
  ['bun', bin('bun'), ['run', '--no-install', SCRIPT]],
];

/** Opens a WebSocket to `port` by hand, sends `frames` masked 64 KiB binary frames, then reads nothing. */
function floodingPeer(port: number, frames: number): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.once('error', reject);
    socket.write(
      'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    socket.once('data', () => {
      socket.pause();
      const header = Uint8Array.from([0x82, 0xfe, 0xff, 0xff, 1, 2, 3, 4]);
      const body = new Uint8Array(0xffff);
      for (let i = 0; i < frames; i++) {
        socket.write(header);
        socket.write(body);
      }
      resolve(() => socket.destroy());
    });
  });
}

describe('a pending close keeps the process alive', () => {
  it.each(runtimes)('on %s, a script awaiting server.close() with a paused connection exits 0 after the closeTimeout', { timeout: 30_000 }, async (_name, command, args) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /port (\d+)/.exec(out);
        if (match) resolve(Number(match[1]));
      });
      void exited.then(() => reject(new Error(`exited before listening: ${err}`)));
    });
    // 12.5 MiB: more than the connection's readable and the socket's buffers take.
    const drop = await floodingPeer(port, 200);
    const killer = setTimeout(() => child.kill(), 20_000);
    const code = await exited;
    clearTimeout(killer);
    drop();
    expect(out).toMatch(/closing\n/);
    expect({ code, closed: /closed (\d+)/.test(out), err: code === 0 ? '' : err }).toEqual({ code: 0, closed: true, err: '' });
    // Settled by the close timeout (300 ms), not by the peer.
    expect(Number(/closed (\d+)/.exec(out)![1])).toBeGreaterThanOrEqual(250);
  });
});
