/**
 * A throwaway `redis-server` for tests, examples and benches: on 127.0.0.1, on a port the
 * OS says is free, with no config file, no persistence (`--save '' --appendonly no`) and
 * its own temporary directory; ready once it answers PING; stopped by its pid. Needs
 * Debian's `redis-server` on the PATH (scripts/ensure-chromium.sh installs it). Runs on
 * Node, Deno and Bun (only `node:` built-ins).
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running redis-server. */
export interface RedisServer {
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** The pid of the current process (changes on restart). */
  readonly pid: number;
  /** Stops it (SIGTERM, then SIGKILL after 2 s) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port (after {@link stop}) and waits until it answers PING. */
  restart(): Promise<void>;
  /** Stops it if running and removes its directory. */
  dispose(): Promise<void>;
}

/** A TCP port that was free a moment ago (the OS's pick for port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Sends one inline command to the server on `port` and waits until the reply so far
 * satisfies `answered`; resolves with `judge(reply)`, or false on an error or after
 * `timeout` ms. (A raw socket, so a probe needs no client library or RESP parser.)
 */
function query(port: number, command: string, timeout: number, answered: (reply: string) => boolean, judge: (reply: string) => boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeout);
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (answered(reply)) done(judge(reply));
    });
    socket.on('error', () => done(false));
  });
}

/** Whether a PING on `port` gets `+PONG` within `timeout` ms. */
function pings(port: number, timeout: number): Promise<boolean> {
  return query(port, 'PING', timeout, (reply) => reply.includes('\r\n'), (reply) => reply.startsWith('+PONG'));
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** More command-line settings, e.g. `['--cluster-enabled', 'yes']`. */
  args?: readonly string[];
  /** The port to listen on. Default: one the OS says is free. */
  port?: number;
}

/**
 * Starts a redis-server and resolves once it answers PING (within 10 s).
 * @example
 * ```ts
 * const redis = await startRedisServer();
 * console.log(redis.url);
 * await redis.dispose();
 * ```
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'wsflow-redis-'));
  let port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  let log = '';

  const launch = async (): Promise<void> => {
    log = '';
    const proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning', ...(options.args ?? [])],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    proc.stdout?.on('data', (chunk: Uint8Array) => (log += chunk.toString()));
    proc.stderr?.on('data', (chunk: Uint8Array) => (log += chunk.toString()));
    const failed = new Promise<Error>((resolve) => {
      proc.once('error', (error) => resolve(error));
      proc.once('exit', (code, signal) => resolve(new Error(`redis-server exited (${code ?? signal}) before answering PING: ${log.trim()}`)));
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const outcome = await Promise.race([pings(port, 500).then((ok) => (ok ? 'up' : 'down')), failed]);
      if (outcome === 'up') return;
      if (outcome instanceof Error) {
        const hint = (outcome as NodeJS.ErrnoException).code === 'ENOENT' ? ' (install Debian\'s redis-server: scripts/ensure-chromium.sh)' : '';
        throw new Error(`${outcome.message}${hint}`);
      }
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`redis-server on port ${port} did not answer PING within 10 s: ${log.trim()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.pid === undefined) return;
    const gone = exited(proc);
    if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid!, 'SIGKILL');
    }, 2_000);
    await gone;
    clearTimeout(timer);
  };

  // A port taken between the probe and the launch: pick another, a few times.
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (error) {
      await stop();
      if (attempt >= 3 || options.port !== undefined || !/Address already in use/i.test(String(error))) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
      port = await freePort();
    }
  }

  return {
    get port() {
      return port;
    },
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    get pid() {
      return child?.pid ?? -1;
    },
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A Redis Cluster of redis-servers (masters only), each on its own free port. */
export interface RedisCluster {
  readonly nodes: readonly RedisServer[];
  /** Stops every node and removes their directories. */
  dispose(): Promise<void>;
}

/**
 * Starts `size` (at least 3) cluster-enabled redis-servers and joins them into one Redis
 * Cluster with `redis-cli --cluster create` (the hash slots split evenly, no replicas);
 * resolves once every node reports `cluster_state:ok`.
 * @example
 * ```ts
 * const cluster = await startRedisCluster(3);
 * console.log(cluster.nodes.map((n) => n.port));
 * await cluster.dispose();
 * ```
 */
export async function startRedisCluster(size = 3): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  const dispose = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.dispose()));
  };
  try {
    for (let i = 0; i < size; i++) {
      // Each node keeps its nodes.conf in its own directory (the default --dir).
      nodes.push(await startRedisServer({ args: ['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000'] }));
    }
    const addresses = nodes.map((n) => `127.0.0.1:${n.port}`);
    await new Promise<void>((resolve, reject) => {
      const cli = spawn('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      cli.stdout?.on('data', (chunk: Uint8Array) => (out += chunk.toString()));
      cli.stderr?.on('data', (chunk: Uint8Array) => (out += chunk.toString()));
      cli.once('error', reject);
      cli.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`redis-cli --cluster create exited ${code}: ${out}`))));
    });
    const deadline = Date.now() + 15_000;
    for (const node of nodes) {
      while (!(await clusterOk(node.port))) {
        if (Date.now() > deadline) throw new Error(`the cluster did not reach cluster_state:ok within 15 s (node ${node.port})`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  } catch (error) {
    await dispose();
    throw error;
  }
  return { nodes, dispose };
}

/** Whether the node on `port` reports `cluster_state:ok` (CLUSTER INFO, RESP2 bulk string). */
function clusterOk(port: number): Promise<boolean> {
  return query(port, 'CLUSTER INFO', 1_000, (reply) => reply.includes('cluster_state:'), (reply) => reply.includes('cluster_state:ok'));
}
