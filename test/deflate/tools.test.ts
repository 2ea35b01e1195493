/**
 * The conformance tools with compression on every runtime:
 * - the echo server (`npm run echo -- --runtime node|deno|bun`) negotiates permessage-deflate
 *   and compresses its echoes (checked on the wire by the relay);
 * - the client driver (`npm run autobahn-client -- --runtime …`) passes every case of our
 *   fuzzing server, its compression cases (sections 12/13 in small) included, compressing
 *   its echoes;
 * - the fuzzing server's compression cases fail agents that do not compress as agreed.
 */
import { randomBytes } from 'node:crypto';
import { constants, deflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { DEFLATE_FUZZING_CASES } from '../../tools/fuzzing_deflate_cases.ts';
import { DEFAULT_FUZZING_CASES, startFuzzingServer, type FuzzingServer } from '../../tools/fuzzing_server.ts';
import { runTool, startTool, type RunningTool } from '../../tools/run_tool.ts';
import { RUNTIMES, type Runtime } from './peers.ts';
import { RawClient } from './raw_client.ts';
import { WireRelay } from './wire_relay.ts';

const TOOL_TIMEOUT = 90_000;

describe.each(RUNTIMES)('echo server (tools/echo.ts --runtime %s)', (runtime: Runtime) => {
  let echo: RunningTool;

  beforeAll(async () => {
    echo = await startTool('echo.ts', ['--runtime', runtime, '--port', '0'], { startTimeout: 30_000, timeout: 120_000 });
  }, 40_000);

  afterAll(async () => {
    if (echo !== undefined && echo.child.exitCode === null) {
      echo.child.kill('SIGTERM');
      await echo.exited;
    }
  });

  it('negotiates permessage-deflate and compresses its echoes of text and binary', async () => {
    const relay = await WireRelay.start(Number(new URL(echo.url).port));
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${relay.port}/`, { perMessageDeflate: { threshold: 0 } });
      await new Promise((resolve, reject) => (ws.once('open', resolve), ws.once('error', reject)));
      expect(ws.extensions).toBe('permessage-deflate');
      const json = JSON.stringify(Array.from({ length: 3000 }, (_, id) => ({ id, name: `user-${id}`, active: id % 3 === 0 })));
      const bytes = Buffer.from(json);
      const echoes: Array<{ data: Buffer; binary: boolean }> = [];
      const got = new Promise<void>((resolve) =>
        ws.on('message', (data: Buffer, binary: boolean) => {
          echoes.push({ data, binary });
          if (echoes.length === 3) resolve();
        }),
      );
      ws.send(json);
      ws.send(bytes, { binary: true });
      ws.send('tiny');
      await got;
      expect(echoes.map((e) => [e.binary, e.data.toString()])).toEqual([
        [false, json],
        [true, json],
        [false, 'tiny'],
      ]);
      ws.close(1000);
      await new Promise((resolve) => ws.once('close', resolve));
      const [record] = await relay.settled();
      expect(record.errors).toEqual([]);
      // The echo server compresses what crosses its threshold (1 KiB), not the 4-octet text.
      expect(record.s2c.map((m) => m.rsv1)).toEqual([true, true, false]);
      expect(record.s2c[0].wire).toBeLessThan(json.length / 4);
    } finally {
      await relay.close();
    }
  }, 30_000);
});

describe('our fuzzing server with its compression cases', () => {
  let server: FuzzingServer;

  beforeAll(async () => {
    server = await startFuzzingServer({ port: 0, caseTimeout: 20_000 });
  });

  afterAll(async () => {
    await server?.close();
  });

  it.each(RUNTIMES)('the client driver on %s passes every case, compressing its echoes', async (runtime) => {
    const agent = `wsflow-${runtime}`;
    const result = await runTool('autobahn_client.ts', ['--runtime', runtime, '--url', server.url, '--agent', agent, '--case-timeout', '30000'], TOOL_TIMEOUT);
    expect(result.code, result.stderr).toBe(0);
    const report = server.report(agent)!;
    expect(report.cases.map((c) => c.id)).toEqual(DEFAULT_FUZZING_CASES.map((c) => c.id));
    for (const c of report.cases) expect(c, `case ${c.case} ${c.id}: ${c.detail}`).toMatchObject({ passed: true });
    // Echo cases say how many of the driver's echoes were compressed: some, in each.
    const echoing = report.cases.filter((c) => c.id.startsWith('deflate-') && /compressed by the agent/.test(c.detail));
    expect(echoing.length).toBe(DEFLATE_FUZZING_CASES.length - 2);
    for (const c of echoing) expect(Number(/\((\d+) compressed by the agent/.exec(c.detail)?.[1]), `${c.id}: ${c.detail}`).toBeGreaterThan(0);
  }, TOOL_TIMEOUT + 10_000);

  const caseNumber = (id: string): number => DEFAULT_FUZZING_CASES.findIndex((c) => c.id === id) + 1;

  it('fails an agent that offers no permessage-deflate', async () => {
    const ws = new WebSocket(`${server.url}/runCase?case=${caseNumber('deflate-text-sizes')}&agent=plain`, { perMessageDeflate: false });
    ws.on('message', (data, binary) => ws.send(data, { binary }));
    await new Promise((resolve) => ws.once('close', resolve));
    await expect.poll(() => server.results('plain'), { timeout: 10_000 }).toMatchObject([{ id: 'deflate-text-sizes', passed: false, detail: 'the agent offered no permessage-deflate this case could accept' }]);
  });

  it('fails an agent that keeps its context after promising client_no_context_takeover', async () => {
    // The agent echoes the server's compressed payloads verbatim: valid with context takeover
    // both ways, but the server's messages refer to earlier ones, which the agent promised not to do.
    const agent = await RawClient.open(server.port, ['permessage-deflate; client_max_window_bits'], `/runCase?case=${caseNumber('deflate-client-no-context-takeover')}&agent=sticky`);
    expect(agent.extensions).toBe('permessage-deflate; client_no_context_takeover');
    for (;;) {
      const event = await agent.next(Date.now() + 10_000);
      if (event.type !== 'frame' || event.frame.opcode === 0x8) break;
      agent.send(event.frame);
    }
    agent.destroy();
    await expect.poll(() => server.results('sticky')[0]?.detail, { timeout: 10_000 }).toMatch(/does not inflate with \{"windowBits":15,"noContextTakeover":true\}/);
    expect(server.results('sticky')[0].passed).toBe(false);
  }, 20_000);

  it('fails an agent that compresses past the window it was given', async () => {
    const agent = await RawClient.open(server.port, ['permessage-deflate; client_max_window_bits'], `/runCase?case=${caseNumber('deflate-window-bits-9')}&agent=wide`);
    expect(agent.extensions).toBe('permessage-deflate; client_max_window_bits=9; server_max_window_bits=9');
    const first = await agent.next(Date.now() + 10_000);
    expect(first.type).toBe('frame');
    // 64 KiB of a repeated 8191-octet block, compressed with a 2^15 window: distances of 8191.
    const block = randomBytes(8191);
    const wide = deflateRawSync(Buffer.concat(Array(8).fill(block)), { windowBits: 15, finishFlush: constants.Z_SYNC_FLUSH });
    agent.send({ fin: true, rsv1: true, rsv2: false, rsv3: false, opcode: 2, payload: wide.subarray(0, wide.length - 4) });
    await expect.poll(() => server.results('wide')[0]?.detail, { timeout: 10_000 }).toMatch(/does not inflate with \{"windowBits":9,"noContextTakeover":false\}/);
    expect(server.results('wide')[0].passed).toBe(false);
    agent.destroy();
  }, 20_000);
});
