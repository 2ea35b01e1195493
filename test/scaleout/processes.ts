/**
 * The scale-out tests' processes: workers of examples/scaling (one per runtime, each on
 * its own port, or N on one port through examples/scaling/cluster.ts), started from the
 * repo's node_modules runtimes and stopped by pid; and clients that record what they get.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connect, type WebSocketConnection } from '@wsflow/node';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = (name: string): string => join(ROOT, 'node_modules/.bin', name);
const NODE = existsSync(bin('node')) ? bin('node') : process.execPath;
const WORKER = join(ROOT, 'examples/scaling/worker.ts');
const CLUSTER = join(ROOT, 'examples/scaling/cluster.ts');

export type Runtime = 'node' | 'deno' | 'bun';
const COMMANDS: Record<Runtime, string[]> = {
  node: [NODE, WORKER],
  deno: [bin('deno'), 'run', '-A', '--unstable-net', '--no-lock', '--no-remote', WORKER],
  bun: [bin('bun'), 'run', '--no-install', WORKER],
};

/** A started process and its first stdout line (JSON). */
export interface Started<T> {
  readonly info: T;
  readonly pid: number;
  /** SIGTERM by pid (SIGKILL after 5 s) and wait for the exit. */
  stop(): Promise<void>;
}

function launch<T>(argv: string[], what: string): Promise<Started<T>> {
  const child: ChildProcess = spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    process.kill(child.pid, 'SIGTERM');
    const timer = setTimeout(() => child.exitCode === null && child.signalCode === null && process.kill(child.pid!, 'SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (void stop(), reject(new Error(`${what} did not start within 60 s: ${stderr}`))), 60_000);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve({ info: JSON.parse(line) as T, pid: child.pid!, stop });
      } catch {
        void stop();
        reject(new Error(`${what} printed ${JSON.stringify(line)}: ${stderr}`));
      }
    });
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`${what} exited (${code}) before it was ready: ${stderr}`))));
  });
}

/** What a worker prints once listening. */
export interface WorkerInfo {
  id: string;
  runtime: Runtime;
  port: number;
  pid: number;
}

/** Starts examples/scaling/worker.ts on `runtime`, on its own port. */
export function startWorker(runtime: Runtime, redisUrl: string, extra: string[] = []): Promise<Started<WorkerInfo>> {
  return launch([...COMMANDS[runtime], '--redis', redisUrl, '--id', runtime, ...extra], `${runtime} worker`);
}

/** What examples/scaling/cluster.ts prints once every worker listens. */
export interface ClusterInfo {
  port: number;
  workers: Array<{ id: string; runtime: Runtime; pid: number }>;
}

/** Starts examples/scaling/cluster.ts: `perRuntime` workers of each runtime on one port. */
export function startCluster(redisUrl: string, runtimes: Runtime[], perRuntime: number): Promise<Started<ClusterInfo>> {
  return launch([NODE, CLUSTER, '--redis', redisUrl, '--runtimes', runtimes.join(','), '--workers', String(perRuntime)], 'cluster');
}

/** A client of a worker: which worker it landed on, and every message after the hello. */
export interface Client {
  readonly conn: WebSocketConnection;
  /** The id of the worker that accepted it (from its `hello:`). */
  readonly worker: string;
  readonly got: Array<string | Uint8Array>;
}

/** Connects to a worker's room and waits for the hello (its subscription is live in Redis). */
export async function joinRoom(port: number, topic: string): Promise<Client> {
  const conn = await connect(`ws://127.0.0.1:${port}/?topic=${encodeURIComponent(topic)}`, { proxy: false });
  const got: Array<string | Uint8Array> = [];
  const worker = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no hello within 10 s')), 10_000);
    conn.onmessage = (data) => {
      if (typeof data === 'string' && data.startsWith('hello:')) {
        clearTimeout(timer);
        conn.onmessage = (message) => void got.push(message);
        resolve(data.slice('hello:'.length));
      }
    };
  });
  return { conn, worker, got };
}

/** A worker's backplane counters (`GET /stats`). */
export async function statsOf(port: number): Promise<{ id: string; published: number; received: number; dropped: number }> {
  const response = await fetch(`http://127.0.0.1:${port}/stats`);
  return (await response.json()) as { id: string; published: number; received: number; dropped: number };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it holds, or throws naming `what` after `timeout` ms. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
