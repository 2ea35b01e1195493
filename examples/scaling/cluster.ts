/**
 * Starts N workers (examples/scaling/worker.ts) on ONE port with `reusePort`, their topics
 * shared through one Redis: the kernel spreads connections across the workers, and a
 * message published on any of them reaches the room's subscribers on all of them.
 *
 *   node examples/scaling/cluster.ts --redis redis://127.0.0.1:6379 --port 8080 --workers 4
 *   node examples/scaling/cluster.ts --redis … --runtimes node,deno,bun --workers 2   # 2 of each
 *
 * Linux only (SO_REUSEPORT load balancing). Prints one JSON line
 * `{"ready":true,"port":…,"workers":[{id,runtime,pid},…]}` once every worker listens;
 * SIGTERM or SIGINT stops the workers (by pid) and then the launcher.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const worker = join(root, 'examples/scaling/worker.ts');
/** The repo's own runtimes (node_modules/.bin), else the ones on the PATH. */
const bin = (name: string): string => (existsSync(join(root, 'node_modules/.bin', name)) ? join(root, 'node_modules/.bin', name) : name);
const COMMANDS: Record<string, string[]> = {
  node: [bin('node'), worker],
  deno: [bin('deno'), 'run', '-A', '--unstable-net', '--no-lock', '--no-remote', worker],
  bun: [bin('bun'), 'run', '--no-install', worker],
};

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    port: { type: 'string', default: '0' },
    workers: { type: 'string', default: '2' },
    runtimes: { type: 'string', default: 'node' },
    sharded: { type: 'boolean', default: false },
  },
});
const perRuntime = Number(values.workers);
const runtimes = values.runtimes.split(',');
for (const r of runtimes) if (!(r in COMMANDS)) throw new TypeError(`--runtimes: unknown runtime ${JSON.stringify(r)} (node, deno, bun)`);
if (!Number.isInteger(perRuntime) || perRuntime < 1) throw new RangeError('--workers must be a positive integer');

interface Ready {
  id: string;
  runtime: string;
  port: number;
  pid: number;
}

const children: ChildProcess[] = [];

/** Starts one worker and resolves with its ready line. */
function start(runtime: string, index: number, port: number): Promise<Ready> {
  const [command, ...args] = COMMANDS[runtime];
  const extra = ['--redis', values.redis, '--port', String(port), '--reuse-port', '--id', `${runtime}-${index}`, ...(values.sharded ? ['--sharded'] : [])];
  const child = spawn(command, [...args, ...extra], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve(JSON.parse(line) as Ready));
    child.once('exit', (code) => reject(new Error(`worker ${runtime}-${index} exited (${code}) before listening`)));
  });
}

function stop(): void {
  for (const child of children) if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => (stop(), process.exit(0)));

try {
  // The first worker fixes the port (the OS's pick for 0); the others join it.
  const plan = runtimes.flatMap((runtime) => Array.from({ length: perRuntime }, (_, i) => ({ runtime, index: i + 1 })));
  const first = await start(plan[0].runtime, plan[0].index, Number(values.port));
  const rest = await Promise.all(plan.slice(1).map(({ runtime, index }) => start(runtime, index, first.port)));
  const workers = [first, ...rest].map(({ id, runtime, pid }) => ({ id, runtime, pid }));
  console.log(JSON.stringify({ ready: true, port: first.port, workers }));
} catch (error) {
  stop();
  throw error;
}
