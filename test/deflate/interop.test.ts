/**
 * permessage-deflate (RFC 7692) interop, both directions, on every runtime: wsflow's
 * server on Node, Deno and Bun against the `ws` client (seven parameter sets), Python
 * `websockets`, and Deno's and Bun's built-in WebSocket; wsflow's client on each runtime
 * against the `ws` server (the same sets), Python `websockets`, `Bun.serve` and
 * `Deno.serve`. (Chromium: test-e2e/deflate.spec.ts.)
 *
 * Every run goes through a relay (wire_relay.ts) that decodes the wire with node:zlib and
 * the agreed terms, so a run passes only when what crossed the wire is valid for what was
 * negotiated, not just when both ends happen to agree with each other.
 *
 * Facts found by these tests (Deno 2.9.5, Bun 1.4.5): Deno's built-in WebSocket offers no
 * permessage-deflate and `Deno.upgradeWebSocket` accepts none; Bun's WebSocket offers
 * `permessage-deflate; client_max_window_bits`, and `Bun.serve` with `perMessageDeflate`
 * answers `permessage-deflate; client_no_context_takeover; server_no_context_takeover`
 * (its default shared compressor).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullPlan, shortPlan, type PlanItem, type RunResult } from './plan.ts';
import { jsPeer, pythonPeer, RUNTIMES, wsPeer, type DeflateParams, type Peer, type Runtime } from './peers.ts';
import { checkRun, summary, termsOfSet, type RunExpectation } from './wire_checks.ts';
import { WireRelay, type WireRecord } from './wire_relay.ts';

/** The parameter sets, each applied to both ends (wsflow and ws use the same names). */
const SETS: Record<string, DeflateParams> = {
  default: {},
  server_no_context_takeover: { serverNoContextTakeover: true },
  client_no_context_takeover: { clientNoContextTakeover: true },
  'client_max_window_bits=9': { clientMaxWindowBits: 9 },
  'client_max_window_bits=12': { clientMaxWindowBits: 12 },
  'server_max_window_bits=10': { serverMaxWindowBits: 10 },
  'threshold=0': { threshold: 0 },
};
/** Python's sets (websockets has no threshold: it compresses every message). */
const PYTHON_SETS = ['default', 'server_no_context_takeover', 'client_max_window_bits=9', 'server_max_window_bits=10'];
/** Bun.serve's compressors: the default shared one (no context takeover), and a dedicated one per connection. */
const BUN_SETS: Record<string, unknown> = { shared: true, dedicated: { compress: 'dedicated', decompress: 'dedicated' } };

const RUN_TIMEOUT = 60_000;
const planOf = (set: string): PlanItem[] => (set === 'default' ? fullPlan() : shortPlan());

const peers = new Map<string, Peer>();
/** Ports of every server, by `${server}:${set}`. */
const ports = new Map<string, number>();
const log: string[] = [];

beforeAll(async () => {
  const started = await Promise.all([
    ...RUNTIMES.map(async (runtime) => [runtime, await jsPeer(runtime)] as const),
    (async () => ['python', await pythonPeer()] as const)(),
  ]);
  for (const [name, peer] of started) peers.set(name, peer);
  peers.set('ws', wsPeer());
  const servers: Array<[string, string, Record<string, unknown>]> = [
    ...RUNTIMES.map((r): [string, string, Record<string, unknown>] => [r, 'wsflow', SETS as Record<string, unknown>]),
    ['ws', 'ws', SETS],
    ['python', 'python', Object.fromEntries(PYTHON_SETS.map((s) => [s, SETS[s]]))],
    ['bun', 'native', BUN_SETS],
    ['deno', 'native', { default: null }],
  ];
  await Promise.all(
    servers.map(async ([peer, impl, sets]) => {
      const got = await peers.get(peer)!.serve(impl as 'wsflow', sets);
      for (const [set, port] of Object.entries(got)) ports.set(`${peer}-${impl}:${set}`, port);
    }),
  );
}, 90_000);

afterAll(async () => {
  await Promise.all([...peers.values()].map((peer) => peer.stop().catch(() => {})));
  console.log(`permessage-deflate interop:\n${log.join('\n')}`);
}, 30_000);

/** Runs `plan` from a client to a server through a relay; returns what both saw. */
async function relayed(server: string, client: { peer: string; impl: 'wsflow' | 'native' | 'ws' | 'python' }, params: unknown, plan: PlanItem[]): Promise<{ result: RunResult; record: WireRecord }> {
  const port = ports.get(server);
  if (port === undefined) throw new Error(`no server ${server}`);
  const relay = await WireRelay.start(port);
  try {
    const result = await peers.get(client.peer)!.run(client.impl, `ws://127.0.0.1:${relay.port}/echo`, params, plan, RUN_TIMEOUT);
    // The client saw its Close answered; give the relay the last bytes, then decode.
    const records = await relay.settled();
    expect(records.length, 'connections through the relay').toBe(1);
    return { result, record: records[0] };
  } finally {
    await relay.close();
  }
}

function note(title: string, result: RunResult, record: WireRecord): void {
  log.push(`  ${title}: ${summary(result, record)}`);
}

describe.each(RUNTIMES)('wsflow on %s', (runtime: Runtime) => {
  const takeoverGain = runtime !== 'deno';
  const wsflowServer = (set: string): string => `${runtime}-wsflow:${set}`;

  describe('as the server', () => {
    for (const [set, params] of Object.entries(SETS)) {
      it(`ws client, ${set}: every message echoed, valid on the wire for the agreed terms`, async () => {
        const plan = planOf(set);
        const { result, record } = await relayed(wsflowServer(set), { peer: 'ws', impl: 'ws' }, params, plan);
        note(`${runtime} server × ws client, ${set}`, result, record);
        checkRun(expect, result, record, { plan, negotiated: true, wsflow: 's2c', params, terms: termsOfSet(params), clientCompressOption: true, serverMarks: 'both', takeoverGain });
        // ws with threshold 0 compresses even the empty and the 1-octet message: wsflow inflates them.
        if (params.threshold === 0) expect(record.c2s.slice(0, 2).map((m) => [m.size, m.rsv1])).toEqual([[0, true], [1, true]]);
      }, RUN_TIMEOUT + 15_000);
    }
    for (const set of PYTHON_SETS) {
      it(`Python websockets client, ${set}`, async () => {
        const plan = planOf(set);
        const { result, record } = await relayed(wsflowServer(set), { peer: 'python', impl: 'python' }, SETS[set], plan);
        note(`${runtime} server × python client, ${set}`, result, record);
        checkRun(expect, result, record, { plan, negotiated: true, wsflow: 's2c', params: SETS[set], terms: termsOfSet(SETS[set]), clientCompressOption: false, serverMarks: 'both', takeoverGain });
      }, RUN_TIMEOUT + 15_000);
    }
    it("Bun's built-in WebSocket client offers permessage-deflate and interoperates", async () => {
      const plan = fullPlan();
      const { result, record } = await relayed(wsflowServer('default'), { peer: 'bun', impl: 'native' }, null, plan);
      note(`${runtime} server × bun WebSocket`, result, record);
      expect(record.offered).toBe('permessage-deflate; client_max_window_bits');
      checkRun(expect, result, record, { plan, negotiated: true, wsflow: 's2c', params: {}, terms: termsOfSet({}), clientCompressOption: false, serverMarks: 'both', takeoverGain });
    }, RUN_TIMEOUT + 15_000);
    it("Deno's built-in WebSocket client offers no permessage-deflate: the server answers without it, nothing is compressed", async () => {
      const plan = shortPlan();
      const { result, record } = await relayed(wsflowServer('default'), { peer: 'deno', impl: 'native' }, null, plan);
      note(`${runtime} server × deno WebSocket`, result, record);
      expect(record.offered, "Deno's offer").toBe('');
      checkRun(expect, result, record, { plan, negotiated: false, wsflow: 's2c', params: {}, clientCompressOption: false, serverMarks: 'both', takeoverGain });
    }, RUN_TIMEOUT + 15_000);
  });

  describe('as the client', () => {
    for (const [set, params] of Object.entries(SETS)) {
      it(`ws server, ${set}: every message echoed, valid on the wire for the agreed terms`, async () => {
        const plan = planOf(set);
        const { result, record } = await relayed(`ws-ws:${set}`, { peer: runtime, impl: 'wsflow' }, params, plan);
        note(`${runtime} client × ws server, ${set}`, result, record);
        checkRun(expect, result, record, { plan, negotiated: true, wsflow: 'c2s', params, terms: termsOfSet(params), clientCompressOption: true, serverMarks: 'plain', takeoverGain });
        if (params.threshold === 0) expect(record.s2c.slice(0, 2).map((m) => [m.size, m.rsv1])).toEqual([[0, true], [1, true]]);
      }, RUN_TIMEOUT + 15_000);
    }
    for (const set of PYTHON_SETS) {
      it(`Python websockets server, ${set}`, async () => {
        const plan = planOf(set);
        const { result, record } = await relayed(`python-python:${set}`, { peer: runtime, impl: 'wsflow' }, SETS[set], plan);
        note(`${runtime} client × python server, ${set}`, result, record);
        checkRun(expect, result, record, { plan, negotiated: true, wsflow: 'c2s', params: SETS[set], terms: termsOfSet(SETS[set]), clientCompressOption: true, serverMarks: 'none', takeoverGain });
      }, RUN_TIMEOUT + 15_000);
    }
    for (const [set, expectedTerms] of [
      ['shared', { client: { windowBits: 15, noContextTakeover: true }, server: { windowBits: 15, noContextTakeover: true } }],
      ['dedicated', undefined],
    ] as const) {
      it(`Bun.serve with perMessageDeflate (${set} compressor)`, async () => {
        const plan = set === 'shared' ? fullPlan() : shortPlan();
        const { result, record } = await relayed(`bun-native:${set}`, { peer: runtime, impl: 'wsflow' }, {}, plan);
        note(`${runtime} client × Bun.serve ${set}`, result, record);
        const expectation: RunExpectation = { plan, negotiated: true, wsflow: 'c2s', params: {}, clientCompressOption: true, serverMarks: 'plain', takeoverGain };
        checkRun(expect, result, record, expectedTerms === undefined ? expectation : { ...expectation, terms: expectedTerms });
      }, RUN_TIMEOUT + 15_000);
    }
    it('Deno.upgradeWebSocket accepts no permessage-deflate: the client opens without it, nothing is compressed', async () => {
      const plan = shortPlan();
      const { result, record } = await relayed('deno-native:default', { peer: runtime, impl: 'wsflow' }, {}, plan);
      note(`${runtime} client × Deno.serve`, result, record);
      expect(record.offered, "wsflow's offer").toBe('permessage-deflate; client_max_window_bits');
      checkRun(expect, result, record, { plan, negotiated: false, wsflow: 'c2s', params: {}, clientCompressOption: true, serverMarks: 'none', takeoverGain });
    }, RUN_TIMEOUT + 15_000);
  });
});
