/**
 * Starts `server.ts` under Node, Deno or Bun as a child process (so that its memory is its
 * own), and talks to it in JSON lines: `stats`, `exit`. Every wait is bounded; the child is
 * ended by its own pid only.
 * @module
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { rssOf } from './wire.ts';

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The runtimes the server runs on. */
export const RUNTIMES = ['node', 'deno', 'bun'] as const;
export type Runtime = (typeof RUNTIMES)[number];

const bin = (name: string): string => join(ROOT, 'node_modules/.bin', name);
const SERVER = join(ROOT, 'tools/soak/server.ts');

/** The command line that runs the server under `runtime`, from node_modules and offline. */
function commandOf(runtime: Runtime, args: string[]): [string, string[]] {
  switch (runtime) {
    case 'node':
      return [existsSync(bin('node')) ? bin('node') : process.execPath, [SERVER, ...args]];
    case 'deno':
      return [bin('deno'), ['run', '-A', '--no-lock', '--no-remote', SERVER, ...args]];
    case 'bun':
      return [bin('bun'), ['run', '--no-install', SERVER, ...args]];
  }
}

/** Options of {@link ServerProcess.start}. */
export interface StartOptions {
  /** The server's limits: the echo tool's 64 MiB (default) or wsflow's defaults (16 MiB). */
  limits?: 'echo' | 'default';
  /** Milliseconds to wait for the ready line. Default 30 000. */
  timeoutMs?: number;
}

/** A flood's progress as the server reports it. */
export interface FloodStats {
  id: string;
  mode: string;
  target: number;
  accepted: number;
  buffered: number;
  ended: boolean;
  closeCode: number | null;
}

/** The server's counters. */
export interface ServerStats {
  /** WebSocket connections open now. */
  open: number;
  /** WebSocket connections accepted in all. */
  accepted: number;
  /** Connections that were already closed when the handler got them (their `onclose` had fired). */
  closedAtHandler: number;
  /** Their fuzz inputs (`X-Fuzz-Input`; the first 20). */
  closedAtHandlerInputs: (string | null)[];
  /** Messages echoed. */
  messages: number;
  echoedBytes: number;
  /** RSS, JavaScript heap in use and array buffers, as the runtime reports them (`process.memoryUsage()`). */
  rss: number;
  heapUsed: number;
  arrayBuffers: number;
  /** The 20 oldest open connections, with their fuzz input (`X-Fuzz-Input`) if tagged. */
  oldest: { input: string | null; ageMs: number; state: string; buffered: number }[];
  floods: FloodStats[];
}

/** A running server process. */
export class ServerProcess {
  readonly runtime: Runtime;
  readonly pid: number;
  readonly port: number;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #pending = new Map<number, (line: Record<string, unknown>) => void>();
  #next = 1;
  #stderr = '';
  /** Set once the process exited: how. */
  exitStatus: string | null = null;
  readonly exited: Promise<void>;

  private constructor(runtime: Runtime, child: ChildProcessWithoutNullStreams, ready: { pid: number; port: number }, exited: Promise<void>) {
    this.runtime = runtime;
    this.#child = child;
    this.pid = ready.pid;
    this.port = ready.port;
    this.exited = exited;
  }

  /** Starts the server under `runtime` and waits (at most `timeoutMs`) for its ready line. */
  static start(runtime: Runtime, options: StartOptions = {}): Promise<ServerProcess> {
    const { limits = 'echo', timeoutMs = 30_000 } = options;
    const [command, args] = commandOf(runtime, ['--limits', limits]);
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let server: ServerProcess | null = null;
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr = (stderr + text).slice(-16_384);
      if (server !== null) server.#stderr = stderr;
    });
    child.stdin.on('error', () => {});
    let exitStatus: string | null = null;
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitStatus = `exited with code ${code}, signal ${signal}`;
        if (server !== null) {
          server.exitStatus = exitStatus;
          for (const answer of server.#pending.values()) answer({ error: exitStatus });
          server.#pending.clear();
        }
        resolve();
      });
      child.once('error', (error) => {
        exitStatus = `could not start: ${error.message}`;
        if (server !== null) server.exitStatus = exitStatus;
        resolve();
      });
    });
    return new Promise<ServerProcess>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${runtime} server printed no ready line within ${timeoutMs} ms: ${stderr}`));
      }, timeoutMs);
      void exited.then(() => {
        clearTimeout(timer);
        if (server === null) reject(new Error(`${runtime} server ${exitStatus} before its ready line: ${stderr}`));
      });
      const lines = createInterface({ input: child.stdout, crlfDelay: Infinity });
      lines.on('line', (line) => {
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return; // not ours (a runtime's own output)
        }
        if (server === null && parsed.ready === true) {
          clearTimeout(timer);
          server = new ServerProcess(runtime, child, { pid: Number(parsed.pid), port: Number(parsed.port) }, exited);
          server.#stderr = stderr;
          resolve(server);
          return;
        }
        if (server !== null && typeof parsed.id === 'number') {
          const answer = server.#pending.get(parsed.id);
          server.#pending.delete(parsed.id);
          answer?.(parsed);
        }
      });
    });
  }

  /** Whether the process is still running. */
  get alive(): boolean {
    return this.exitStatus === null;
  }

  /** The last 16 KiB the process wrote to stderr. */
  get stderr(): string {
    return this.#stderr;
  }

  /** RSS from `/proc/<pid>/status`, in bytes (null once the process is gone). */
  rss(): Promise<number | null> {
    return rssOf(this.pid);
  }

  /** The server's counters (rejects after `timeoutMs` or if the process exited). */
  async stats(timeoutMs = 10_000): Promise<ServerStats> {
    const answer = await this.#request({ op: 'stats' }, timeoutMs);
    if (typeof answer.error === 'string') throw new Error(`${this.runtime} server: ${answer.error}`);
    return answer.stats as ServerStats;
  }

  /** Runs a full garbage collection in the server where it can (Node with `--expose-gc`, Bun); resolves with whether it did. */
  async gc(timeoutMs = 10_000): Promise<boolean> {
    const answer = await this.#request({ op: 'gc' }, timeoutMs);
    return answer.collected === true;
  }

  #request(command: Record<string, unknown>, timeoutMs: number): Promise<Record<string, unknown>> {
    if (this.exitStatus !== null) return Promise.reject(new Error(`${this.runtime} server ${this.exitStatus}: ${this.#stderr}`));
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.runtime} server did not answer ${String(command.op)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, (line) => {
        clearTimeout(timer);
        resolve(line);
      });
      this.#child.stdin.write(`${JSON.stringify({ ...command, id })}\n`);
    });
  }

  /** Asks the server to exit; kills it (SIGKILL, by pid) if it has not within `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.exitStatus !== null) return;
    this.#child.stdin.end();
    const timer = setTimeout(() => {
      if (this.exitStatus === null) this.#child.kill('SIGKILL');
    }, timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}
