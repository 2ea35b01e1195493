/**
 * The peers of the permessage-deflate interop tests, behind one {@link Peer} interface:
 * the JS peer process on Node, Deno or Bun (wsflow's shim or the runtime's built-in
 * WebSocket), the Python `websockets` process, and `ws` in this process.
 * @module
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket as WsClient, WebSocketServer, type RawData } from 'ws';
import { LineProcess, type Launch } from '../matrix/processes.ts';
import { echoCompressOf, runPlan, type PlanItem, type RunResult } from './plan.ts';

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const bin = (name: string): string => join(ROOT, 'node_modules/.bin', name);
/** Node 24 from node_modules, Deno and Bun from node_modules, all offline. */
export const LAUNCH = {
  node: (script: string): Launch => ({ command: existsSync(bin('node')) ? bin('node') : process.execPath, args: [script] }),
  deno: (script: string): Launch => ({ command: bin('deno'), args: ['run', '-A', '--no-lock', '--no-remote', script] }),
  bun: (script: string): Launch => ({ command: bin('bun'), args: ['run', '--no-install', script] }),
  python: (script: string): Launch => ({ command: existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3', args: [script] }),
};

export type Runtime = 'node' | 'deno' | 'bun';
export const RUNTIMES: readonly Runtime[] = ['node', 'deno', 'bun'];

/** permessage-deflate settings with wsflow's names (ws takes the same ones). */
export interface DeflateParams {
  serverNoContextTakeover?: boolean;
  clientNoContextTakeover?: boolean;
  serverMaxWindowBits?: number;
  clientMaxWindowBits?: number;
  threshold?: number;
}

/** Something that can serve echo endpoints and run plans as a client. */
export interface Peer {
  readonly label: string;
  /** Starts one echo server per set; the ports by set name. */
  serve(impl: 'wsflow' | 'native' | 'ws' | 'python', sets: Record<string, unknown>, limits?: Record<string, number>): Promise<Record<string, number>>;
  run(impl: 'wsflow' | 'native' | 'ws' | 'python', url: string, params: unknown, plan: PlanItem[], timeoutMs: number): Promise<RunResult>;
  /** The process's pid and RSS as its runtime reports them (process peers only); answering at all shows it is alive. */
  status?(): Promise<{ pid: number; rss: number }>;
  stop(): Promise<void>;
}

/** A peer process speaking the JSON lines of js_peer.ts / python_peer.py. */
export async function processPeer(label: string, launch: Launch): Promise<Peer> {
  const process = new LineProcess(label, launch, ROOT);
  await process.ready;
  return {
    label,
    serve: async (impl, sets, limits) => (await process.request<{ ports: Record<string, number> }>({ op: 'serve', impl, sets, limits }, 30_000)).ports,
    status: () => process.request<{ pid: number; rss: number }>({ op: 'status' }, 10_000),
    run: (impl, url, params, plan, timeoutMs) => process.request<RunResult>({ op: 'run', impl, url, params, plan, timeoutMs }, timeoutMs + 10_000),
    stop: () => process.stop(),
  };
}

export const jsPeer = (runtime: Runtime): Promise<Peer> => processPeer(`${runtime} peer`, LAUNCH[runtime]('test/deflate/peers/js_peer.ts'));
export const pythonPeer = (): Promise<Peer> => processPeer('python peer', LAUNCH.python('test/deflate/peers/python_peer.py'));

const MiB = 1024 * 1024;

function bytesOf(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  return data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** ws 8 in this process: `WebSocketServer` / `WebSocket` with `perMessageDeflate: params`. */
export function wsPeer(): Peer {
  const servers: WebSocketServer[] = [];
  return {
    label: 'ws',
    async serve(_impl, sets) {
      const ports: Record<string, number> = {};
      for (const [name, params] of Object.entries(sets)) {
        const server = new WebSocketServer({ port: 0, host: '127.0.0.1', maxPayload: 16 * MiB, perMessageDeflate: params as DeflateParams });
        server.on('connection', (socket) => {
          socket.on('error', () => {});
          socket.on('message', (data, isBinary) => {
            const bytes = bytesOf(data);
            const message = isBinary ? bytes : Buffer.from(bytes).toString();
            socket.send(message, { binary: isBinary, compress: echoCompressOf(message) ?? true });
          });
        });
        await new Promise<void>((resolve) => server.once('listening', resolve));
        servers.push(server);
        ports[name] = (server.address() as { port: number }).port;
      }
      return ports;
    },
    async run(_impl, url, params, plan, timeoutMs) {
      const started = Date.now();
      const deadline = started + timeoutMs;
      const socket = new WsClient(url, { perMessageDeflate: params as DeflateParams, maxPayload: 16 * MiB });
      const queue: Array<string | Uint8Array> = [];
      let waiter: (() => void) | null = null;
      let closeCode = -1;
      const closed = new Promise<void>((resolve) => socket.once('close', (code) => ((closeCode = code), resolve(), waiter?.())));
      socket.on('message', (data, isBinary) => {
        queue.push(isBinary ? new Uint8Array(bytesOf(data)) : Buffer.from(bytesOf(data)).toString());
        waiter?.();
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      const next = async (): Promise<string | Uint8Array> => {
        while (queue.length === 0) {
          if (socket.readyState !== WsClient.OPEN) throw new Error(`ws closed ${closeCode}`);
          if (Date.now() > deadline) throw new Error('timed out waiting for an echo');
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
            waiter = () => (clearTimeout(timer), (waiter = null), resolve());
          });
        }
        return queue.shift()!;
      };
      const tally = await runPlan(plan, { send: (data, compress) => socket.send(data, { compress: compress ?? true }), next });
      socket.close(1000);
      await Promise.race([closed, new Promise((r) => setTimeout(r, 5000))]);
      return { extensions: String(socket.extensions), ...tally, closeCode, ms: Date.now() - started };
    },
    async stop() {
      for (const server of servers) {
        for (const client of server.clients) client.terminate();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}
