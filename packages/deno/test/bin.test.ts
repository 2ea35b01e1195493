// The command-line tools in packages/deno/bin, run as `deno run -A` child processes: the
// echo server, and the fuzzing-server client driver against a scripted fuzzing server.
import { describe, expect, it, type TestContext } from 'vitest';
import { connect, serve, type Message } from '../src/index.ts';
import { ramp } from './support/raw.ts';

/** The repo root, found from the Deno binary the tests run on (node_modules/deno/deno). */
const root = (() => {
  const exec = Deno.execPath();
  const at = exec.lastIndexOf('/node_modules/');
  return at < 0 ? null : exec.slice(0, at);
})();

function denoRun(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ['run', '-A', '--no-lock', '--no-remote', ...args],
    cwd: root!,
    stdout: 'piped',
    stderr: 'piped',
    env: { NO_COLOR: '1' },
  }).spawn();
}

/** Reads lines from a stream until `match` or `ms`; resolves with the matching line (or null). */
async function lineMatching(stream: ReadableStream<Uint8Array>, match: RegExp, ms: number): Promise<string | null> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  const deadline = Date.now() + ms;
  try {
    while (Date.now() < deadline) {
      const timer = new Promise<null>((resolve) => setTimeout(() => resolve(null), Math.max(1, deadline - Date.now())));
      const next = await Promise.race([reader.read(), timer]);
      if (next === null || next.done) return null;
      buffered += decoder.decode(next.value, { stream: true });
      const line = buffered.split('\n').find((l) => match.test(l));
      if (line !== undefined) return line;
    }
    return null;
  } finally {
    reader.releaseLock();
  }
}

describe('bin/echo.ts', () => {
  it('listens, echoes text and binary up to 64 MiB limits, and exits 0 on SIGTERM', { timeout: 30_000 }, async (ctx: TestContext) => {
    if (root === null) ctx.skip('not running from the repo’s node_modules/deno');
    const child = denoRun(['packages/deno/bin/echo.ts', '--port', '0']);
    try {
      const line = await lineMatching(child.stdout, /^listening on ws:\/\/127\.0\.0\.1:\d+$/, 20_000);
      expect(line).not.toBeNull();
      const url = line!.slice('listening on '.length);
      const conn = await connect(url, { proxy: false, maxMessage: 64 << 20, maxPayload: 64 << 20 });
      const got: Message[] = [];
      const done = new Promise<void>((resolve) => {
        conn.onmessage = (data) => {
          got.push(data);
          if (got.length === 2) resolve();
        };
      });
      const big = ramp(20 << 20);
      conn.send('text stays text');
      conn.send(big);
      await done;
      expect(got[0]).toBe('text stays text');
      expect((got[1] as Uint8Array).length).toBe(big.length);
      child.kill('SIGTERM');
      expect((await conn.closed).closeCode).toBe(1001);
      const status = await child.status;
      expect(status.code).toBe(0);
    } finally {
      try {
        child.kill('SIGKILL');
      } catch {
        /* exited */
      }
      await child.stderr.cancel().catch(() => {});
      await child.stdout.cancel().catch(() => {});
      await child.status;
    }
  });

  it('exits 2 for a bad command line', { timeout: 30_000 }, async (ctx: TestContext) => {
    if (root === null) ctx.skip('not running from the repo’s node_modules/deno');
    const child = denoRun(['packages/deno/bin/echo.ts', '--port', 'x']);
    await child.stdout.cancel();
    await child.stderr.cancel();
    expect((await child.status).code).toBe(2);
  });
});

describe('bin/autobahn_client.ts', () => {
  it('gets the case count, echoes every case with its type, and updates the reports', { timeout: 60_000 }, async (ctx: TestContext) => {
    if (root === null) ctx.skip('not running from the repo’s node_modules/deno');
    const echoed = new Map<number, Message[]>();
    const reports: string[] = [];
    // A scripted fuzzing server: 3 cases, each sending messages and checking the echoes.
    const fuzzing = await serve({
      maxMessage: 8 << 20,
      maxPayload: 8 << 20,
      handler: (conn, request) => {
        const url = new URL(request.url);
        if (url.pathname === '/getCaseCount') {
          conn.send('3');
          conn.close({ closeCode: 1000 });
          return;
        }
        if (url.pathname === '/updateReports') {
          reports.push(url.searchParams.get('agent') ?? '');
          conn.close({ closeCode: 1000 });
          return;
        }
        const n = Number(url.searchParams.get('case'));
        const script: Message[] = n === 1 ? ['hello', new Uint8Array([1, 2, 3])] : n === 2 ? [''] : [ramp(1 << 20)];
        const got: Message[] = [];
        echoed.set(n, got);
        conn.onmessage = (data) => {
          got.push(data);
          if (got.length === script.length) conn.close({ closeCode: 1000, reason: `case ${n} ok` });
        };
        for (const message of script) conn.send(message);
      },
    });
    const child = denoRun(['packages/deno/bin/autobahn_client.ts', '--url', `ws://127.0.0.1:${fuzzing.port}`, '--agent', 'test-agent']);
    try {
      const [status, out] = await Promise.all([child.status, new Response(child.stdout).text(), child.stderr.cancel()]);
      expect(status.code).toBe(0);
      expect(out).toContain('3 cases announced, running 3 as test-agent');
      expect(out).toContain('case 1/3: 1000 "case 1 ok"');
      expect(out).toContain('reports updated');
      expect(echoed.get(1)).toEqual(['hello', new Uint8Array([1, 2, 3])]);
      expect(echoed.get(2)).toEqual(['']);
      expect((echoed.get(3)![0] as Uint8Array).length).toBe(1 << 20);
      expect(reports).toEqual(['test-agent']);
    } finally {
      try {
        child.kill('SIGKILL');
      } catch {
        /* exited */
      }
      await fuzzing.close();
    }
  });
});
