/**
 * The interop matrix (see behaviours.ts), under Vitest: every behaviour for every pair of
 * - wsflow's servers on Node, Deno and Bun × wsflow's clients on Node, Deno and Bun, the
 *   `ws` client, Deno's and Bun's built-in WebSocket, Python's `websockets`;
 * - `Deno.serve` and `Bun.serve` × wsflow's clients on Node, Deno and Bun.
 * (Chromium's WebSocket: test-e2e/matrix.spec.ts.)
 *
 * Each server process starts once for this file and each client driver process once; the
 * wsflow Node client and `ws` run in this process. Cells run one after the other.
 * Not-applicable cells are listed as skipped with their reason; known limitations run as
 * `it.fails` with the runtime's issue. The table is printed at the end.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { connect as nodeConnect } from '@wsflow/node';
import { BEHAVIOURS, cleanUp, planCell, type Cell, type ClientHandle } from './behaviours.ts';
import { makeCert, type MatrixCert } from './cert.ts';
import { startClientProcess, startServer, type RunningServer } from './launch.ts';
import { NATIVE_SERVERS, OTHER_CLIENTS, WSFLOW_CLIENTS, WSFLOW_SERVERS, type ClientKind, type ServerKind } from './peers.ts';
import { InProcessDriver, type Channel } from './processes.ts';
import { MatrixReport } from './report.ts';
import { wsAdapter } from './ws_adapter.ts';
import { wsflowAdapter, type WsflowConnect } from './wsflow_adapter.ts';

const ORIGINS = { allowed: 'https://allowed.example', refused: 'https://refused.example' };

/** The pairs: wsflow's servers with every client, native servers with wsflow's clients. */
const PAIRS: Array<[ServerKind, ClientKind]> = [
  ...WSFLOW_SERVERS.flatMap((s) => [...WSFLOW_CLIENTS, ...OTHER_CLIENTS].map((c): [ServerKind, ClientKind] => [s, c])),
  ...NATIVE_SERVERS.flatMap((s) => WSFLOW_CLIENTS.map((c): [ServerKind, ClientKind] => [s, c])),
];

let cert: MatrixCert;
const servers = new Map<string, RunningServer>();
const clients = new Map<string, Channel>();
const report = new MatrixReport(BEHAVIOURS);
const started = Date.now();

function inProcessClient(id: string): Channel | null {
  if (id === 'wsflow-node') {
    return new InProcessDriver('wsflow-node client', wsflowAdapter({ connect: nodeConnect as unknown as WsflowConnect['connect'], trust: (ca) => ({ ca }) }));
  }
  if (id === 'ws') return new InProcessDriver('ws client', wsAdapter);
  return null;
}

beforeAll(async () => {
  cert = makeCert();
  const serverKinds = [...WSFLOW_SERVERS, ...NATIVE_SERVERS];
  const clientKinds = [...WSFLOW_CLIENTS, ...OTHER_CLIENTS];
  // Start everything at once; a failure is reported by the cells that need it.
  await Promise.all([
    ...serverKinds.map(async (kind) => void servers.set(kind.id, await startServer(kind, cert, [ORIGINS.allowed]))),
    ...clientKinds.map(async (kind) => void clients.set(kind.id, inProcessClient(kind.id) ?? (await startClientProcess(kind.id, cert)))),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([...servers.values()].map((s) => s.process.stop()));
  await Promise.all([...clients.values()].map((c) => c.stop().catch(() => {})));
  cert?.remove();
  const runtimes = [...servers.values()].map((s) => `${s.kind.id}: ${s.runtime}`).join(', ');
  console.log(`${report.format(`interop matrix (${((Date.now() - started) / 1000).toFixed(1)} s; ${runtimes})`)}\n`);
}, 30_000);

for (const [serverKind, clientKind] of PAIRS) {
  const row = `${serverKind.id} × ${clientKind.id}`;
  describe(`${serverKind.title} × ${clientKind.title}`, () => {
    for (const behaviour of BEHAVIOURS) {
      const plan = planCell(serverKind, clientKind, behaviour);
      report.plan(row, behaviour.id, plan);
      if (plan.status === 'n/a') {
        it.skip(`${behaviour.id}: n/a, ${plan.reason}`, () => {});
        continue;
      }
      const body = async (): Promise<void> => {
        const server = servers.get(serverKind.id);
        const channel = clients.get(clientKind.id);
        if (server === undefined || channel === undefined) throw new Error(`${server === undefined ? serverKind.id : clientKind.id} did not start`);
        const client: ClientHandle = { kind: clientKind, channel };
        const cell: Cell = { server, client, tag: `${serverKind.id}.${clientKind.id}.${behaviour.id}`, ca: cert.ca, origins: ORIGINS, opened: [], note: (text) => report.observe(row, behaviour.id, text) };
        let outcome: 'ok' | 'FAIL' = 'FAIL';
        try {
          await behaviour.run(cell);
          outcome = 'ok';
        } finally {
          await cleanUp(cell);
          report.record(row, behaviour.id, plan.status === 'known' ? (outcome === 'ok' ? 'FAIL' : 'known') : outcome);
        }
      };
      if (plan.status === 'known') it.fails(`${behaviour.id}: known limitation, ${plan.limitation.issue}`, body, behaviour.timeoutMs);
      else it(`${behaviour.id}: ${behaviour.title}`, body, behaviour.timeoutMs);
    }
  });
}
