// The echo server for conformance suites (tools/echo.ts), run as a child process on a port
// the OS picks, exercised with the `ws` client: text stays text, binary stays binary, large
// and heavily fragmented messages come back whole, and SIGTERM/SIGINT end it cleanly.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { runTool, startTool, type RunningTool } from '../../../tools/run_tool.ts';

const MiB = 1024 * 1024;
const TEST_TIMEOUT = 90_000;
const START = { startTimeout: 20_000, timeout: 60_000 };

function pattern(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 131 + (i >>> 8)) & 0xff;
  return bytes;
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { maxPayload: 64 * MiB });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Resolves with the next message and whether it was binary. */
function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    // Generous: 65,536 fragments take 10–20 s of CPU on a loaded 2-core machine; this checks
    // the echo, not its speed.
    const timer = setTimeout(() => reject(new Error('no echo within 60 s')), 60_000);
    ws.once('message', (data, isBinary) => {
      clearTimeout(timer);
      resolve({ data: data as Buffer, isBinary });
    });
  });
}

function closed(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code) => resolve(code)));
}

describe.each(['node', 'deno', 'bun'])('echo server (tools/echo.ts --runtime %s)', (runtime) => {
  let echo: RunningTool;
  let ws: WebSocket;

  beforeAll(async () => {
    echo = await startTool('echo.ts', ['--runtime', runtime, '--port', '0'], START);
    ws = await open(echo.url);
  }, TEST_TIMEOUT);

  afterAll(async () => {
    ws?.terminate();
    if (echo !== undefined && echo.child.exitCode === null) {
      echo.child.kill('SIGTERM');
      await echo.exited;
    }
  });

  test('--port 0 prints the port the OS chose', () => {
    expect(echo.url).toMatch(/^ws:\/\/127\.0\.0\.1:[1-9]\d*$/);
    expect(echo.output().stdout).toBe(`listening on ${echo.url}\n`);
  });

  test('server echoes text as text', async () => {
    const reply = nextMessage(ws);
    ws.send('Hello, 世界 😀');
    const { data, isBinary } = await reply;
    expect(isBinary).toBe(false);
    expect(data.toString('utf8')).toBe('Hello, 世界 😀');
  });

  test('server echoes binary as binary, the empty message too', async () => {
    for (const payload of [Buffer.from([0, 1, 2, 0xff]), Buffer.alloc(0)]) {
      const reply = nextMessage(ws);
      ws.send(payload, { binary: true });
      const { data, isBinary } = await reply;
      expect(isBinary).toBe(true);
      expect(data.equals(payload)).toBe(true);
    }
  });

  test(
    'server echoes a 5 MiB binary message and a 5 MiB text message',
    async () => {
      const bytes = pattern(5 * MiB);
      let reply = nextMessage(ws);
      ws.send(bytes, { binary: true });
      let echoed = await reply;
      expect(echoed.isBinary).toBe(true);
      expect(echoed.data.equals(bytes)).toBe(true);

      const text = 'wsflow-'.repeat(Math.ceil((5 * MiB) / 7)).slice(0, 5 * MiB);
      reply = nextMessage(ws);
      ws.send(text);
      echoed = await reply;
      expect(echoed.isBinary).toBe(false);
      expect(echoed.data.toString('utf8') === text).toBe(true);
    },
    TEST_TIMEOUT,
  );

  test(
    'server echoes 4 MiB sent in 64-byte fragments, one more than the default fragment limit',
    async () => {
      // Autobahn 9.3.1 sends 4 MiB in 64-byte fragments: 65 536 of them, the codec's default limit.
      const bytes = pattern(4 * MiB + 64);
      const reply = nextMessage(ws);
      for (let at = 0; at < bytes.length; at += 64) {
        ws.send(bytes.subarray(at, at + 64), { binary: true, fin: at + 64 >= bytes.length });
      }
      const { data, isBinary } = await reply;
      expect(isBinary).toBe(true);
      expect(data.equals(bytes)).toBe(true);
    },
    TEST_TIMEOUT,
  );
});

describe('echo server shutdown and usage', () => {
  test.each(['SIGTERM', 'SIGINT'] as const)(
    'server closes connections with 1001 and exits 0 on %s',
    async (signal) => {
      const echo = await startTool('echo.ts', ['--runtime', 'node', '--port', '0'], START);
      const ws = await open(echo.url);
      const code = closed(ws);
      echo.child.kill(signal);
      expect(await code).toBe(1001);
      const result = await echo.exited;
      expect(result).toMatchObject({ code: 0, signal: null });
      expect(result.stderr).toContain(`echo: ${signal}, closing`);
    },
    TEST_TIMEOUT,
  );

  test(
    'echo exits 2 naming the known runtimes for an unknown runtime',
    async () => {
      const result = await runTool('echo.ts', ['--runtime', 'quickjs', '--port', '0'], 20_000);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('echo: unknown runtime "quickjs"; known runtimes: node');
    },
    TEST_TIMEOUT,
  );

  test(
    'echo exits 2 for a missing or invalid --port',
    async () => {
      const missing = await runTool('echo.ts', ['--runtime', 'node'], 20_000);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('--port is required');
      const invalid = await runTool('echo.ts', ['--runtime', 'node', '--port', '70000'], 20_000);
      expect(invalid.code).toBe(2);
      expect(invalid.stderr).toContain('--port must be 0-65535');
    },
    TEST_TIMEOUT,
  );
});
