// The Autobahn client driver (tools/autobahn_client.ts), run as a child process against our
// own fuzzing server (tools/fuzzing_server.ts) started in-process: every case must pass and
// the report must be updated. The fuzzing server itself is checked against misbehaving
// agents (the `ws` client, muted or without Pongs), so that "all passed" means something.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { FUZZING_CASES, type FuzzingCase } from '../../../tools/fuzzing_cases.ts';
import { DEFAULT_FUZZING_CASES, startFuzzingServer, type FuzzingServer } from '../../../tools/fuzzing_server.ts';
import { runTool } from '../../../tools/run_tool.ts';

const TOOL_TIMEOUT = 30_000;
const TEST_TIMEOUT = 45_000;

function runClient(url: string, agent: string, ...extra: string[]) {
  return runTool('autobahn_client.ts', ['--runtime', 'node', '--url', url, '--agent', agent, ...extra], TOOL_TIMEOUT);
}

/**
 * Runs one case with the `ws` client as the agent: it echoes each message, or with
 * `echo: false` answers it with a Close 1000. Resolves with the close code.
 */
function wsAgent(url: string, options: { echo: boolean; autoPong?: boolean }): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { autoPong: options.autoPong ?? true });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error('the ws agent did not finish in time'));
    }, 10_000);
    ws.on('message', (data, isBinary) => {
      if (options.echo) ws.send(data, { binary: isBinary });
      else ws.close(1000);
    });
    ws.on('error', () => {}); // a protocol error is followed by 'close', which settles
    ws.on('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** Resolves with the HTTP status a refused handshake got. */
function refusedStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      ws.terminate();
      reject(new Error('the handshake was accepted'));
    });
    ws.on('error', () => {});
  });
}

/** A port nothing listens on: one the OS gave out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('autobahn client driver against our fuzzing server', () => {
  let server: FuzzingServer;
  let dir: string;
  let reportPath: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wsflow-fuzzing-'));
    reportPath = join(dir, 'reports', 'fuzzing.json');
    server = await startFuzzingServer({ port: 0, reportPath });
  });

  afterAll(async () => {
    await server?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  test(
    'client passes every case, prints one line per case and updates the report',
    async () => {
      const result = await runClient(server.url, 'wsflow-node');
      expect(result.stderr).not.toMatch(/autobahn-client:/);
      expect(result.code).toBe(0);

      const count = DEFAULT_FUZZING_CASES.length;
      const caseLines = result.stdout.split('\n').filter((line) => line.startsWith('case '));
      expect(caseLines.map((line) => /^case\s+(\d+)\//.exec(line)?.[1])).toEqual(DEFAULT_FUZZING_CASES.map((_, i) => String(i + 1)));
      expect(caseLines.every((line) => line.includes(`/${count}:`))).toBe(true);
      expect(result.stdout).toContain('updated the reports of agent "wsflow-node"');

      const report = server.report('wsflow-node');
      expect(report).toBeDefined();
      expect(report!.updates).toBe(1);
      expect(report!.cases.map((c) => c.id)).toEqual(DEFAULT_FUZZING_CASES.map((c) => c.id));
      for (const result of report!.cases) expect(result, `case ${result.case} ${result.id}: ${result.detail}`).toMatchObject({ passed: true });
      expect(report!.failed).toBe(0);

      const written = JSON.parse(await readFile(reportPath, 'utf8')) as Record<string, unknown>;
      expect(written['wsflow-node']).toEqual(report);
    },
    TEST_TIMEOUT,
  );

  test(
    'client goes on after the case where the server drops the connection',
    async () => {
      const result = await runClient(server.url, 'drop-check', '--cases', '5-6');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^case +5/${DEFAULT_FUZZING_CASES.length}: closed 1006 \\(not clean\\)`, 'm'));
      expect(result.stdout).toMatch(new RegExp(`^case +6/${DEFAULT_FUZZING_CASES.length}: .*INVALID_UTF8`, 'm'));
      expect(server.report('drop-check')!.cases.map((c) => [c.case, c.passed])).toEqual([
        [5, true],
        [6, true],
      ]);
    },
    TEST_TIMEOUT,
  );

  test(
    'client runs only the cases of --cases and a second run updates the report again',
    async () => {
      expect((await runClient(server.url, 'subset', '--cases', '1,3')).code).toBe(0);
      expect(server.report('subset')!.cases.map((c) => c.case)).toEqual([1, 3]);
      const again = await runClient(server.url, 'subset', '--cases', '2,99');
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('running 1 as agent "subset"');
      const report = server.report('subset')!;
      expect(report.updates).toBe(2);
      expect(report.cases.map((c) => [c.case, c.passed])).toEqual([
        [1, true],
        [2, true],
        [3, true],
      ]);
    },
    TEST_TIMEOUT,
  );

  test('fuzzing server fails an agent that closes instead of echoing', async () => {
    await wsAgent(`${server.url}/runCase?case=1&agent=mute`, { echo: false });
    const [result] = server.results('mute');
    expect(result).toMatchObject({ case: 1, id: 'text-echo', passed: false });
    expect(result.detail).toMatch(/expected the text message of "Hello" echoed, got a Close 1000/);
  });

  test('fuzzing server fails an agent that does not answer a Ping', async () => {
    await wsAgent(`${server.url}/runCase?case=3&agent=no-pong`, { echo: true, autoPong: false });
    const [result] = server.results('no-pong');
    expect(result).toMatchObject({ case: 3, passed: false });
    expect(result.detail).toMatch(/no Pong/);
  });

  test('fuzzing server passes the ws client on the invalid UTF-8 case (1007)', async () => {
    await wsAgent(`${server.url}/runCase?case=6&agent=ws`, { echo: true }); // ws reports 1006: it fails without waiting
    expect(server.results('ws')).toMatchObject([{ case: 6, passed: true, detail: 'failed the connection with 1007' }]);
  });

  test('fuzzing server refuses unknown paths with 404 and bad case numbers or agents with 400', async () => {
    expect(await refusedStatus(`${server.url}/nope`)).toBe(404);
    expect(await refusedStatus(`${server.url}/runCase?case=0&agent=a`)).toBe(400);
    expect(await refusedStatus(`${server.url}/runCase?case=${DEFAULT_FUZZING_CASES.length + 1}&agent=a`)).toBe(400);
    expect(await refusedStatus(`${server.url}/runCase?case=1`)).toBe(400);
    expect(await refusedStatus(`${server.url}/updateReports`)).toBe(400);
  });
});

describe('autobahn client driver robustness', () => {
  test(
    'client survives a refused case, a silent case and a dropped case, and still updates the report',
    async () => {
      const silent: FuzzingCase = {
        id: 'silent',
        description: 'sends nothing and never closes',
        run: async (peer, deadline) => {
          const event = await peer.next(deadline);
          return { passed: event.type === 'end', detail: `the agent gave up: ${event.type}` };
        },
      };
      const slam: FuzzingCase = {
        id: 'slam',
        description: 'drops the connection at once',
        run: async (peer) => {
          peer.destroy();
          return { passed: true, detail: 'dropped' };
        },
      };
      const server = await startFuzzingServer({ port: 0, caseTimeout: 5000, cases: [slam, silent, FUZZING_CASES[0]] });
      try {
        const result = await runClient(server.url, 'robust', '--case-timeout', '500');
        expect(result.code).toBe(0);
        expect(result.stdout).toMatch(/^case 1\/3: closed 1006/m);
        expect(result.stdout).toMatch(/^case 2\/3: timed out after 500 ms; dropped/m);
        expect(result.stdout).toMatch(/^case 3\/3: closed 1000/m);
        expect(server.report('robust')!.cases.map((c) => [c.id, c.passed])).toEqual([
          ['slam', true],
          ['silent', true],
          ['text-echo', true],
        ]);
      } finally {
        await server.close();
      }
    },
    TEST_TIMEOUT,
  );

  test(
    'client exits 1 with a message when no fuzzing server listens',
    async () => {
      const result = await runClient(`ws://127.0.0.1:${await closedPort()}`, 'nobody');
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^autobahn-client: .*ECONNREFUSED/m);
    },
    TEST_TIMEOUT,
  );

  test(
    'client exits 2 naming the known runtimes for an unknown runtime',
    async () => {
      const result = await runTool('autobahn_client.ts', ['--runtime', 'quickjs', '--url', 'ws://127.0.0.1:9', '--agent', 'x'], TOOL_TIMEOUT);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('autobahn-client: unknown runtime "quickjs"; known runtimes: node');
    },
    TEST_TIMEOUT,
  );

  test(
    'client exits 2 for a missing --url or a bad --cases',
    async () => {
      const missing = await runTool('autobahn_client.ts', ['--agent', 'x'], TOOL_TIMEOUT);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('--url is required');
      const bad = await runTool('autobahn_client.ts', ['--url', 'ws://127.0.0.1:9', '--agent', 'x', '--cases', '3-1'], TOOL_TIMEOUT);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--cases');
    },
    TEST_TIMEOUT,
  );
});
