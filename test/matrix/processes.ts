/**
 * The runner's side of the driver protocol: a child process spoken to in JSON lines
 * (client drivers and servers alike), or an in-process {@link DriverCore}, behind one
 * {@link Channel} interface. Every wait is bounded; a process is ended by its own pid only.
 * @module
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { DriverCore, HandshakeRefused, type ClientAdapter } from './driver_core.ts';
import type { ReadyLine } from './protocol.ts';

/** A failed command, with what the other side said. */
export class CommandError extends Error {
  readonly status: number | undefined;

  constructor(message: string, status?: number) {
    super(message);
    this.status = status;
  }
}

/** Sends a command and waits (at most `timeoutMs`) for its answer. */
export interface Channel {
  readonly label: string;
  request<T = Record<string, unknown>>(command: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** Ends the other side. */
  stop(): Promise<void>;
}

const DEFAULT_TIMEOUT = 30_000;

/** Where the runtimes are (from node_modules, run offline). */
export interface Launch {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

/** A child process speaking JSON lines. */
export class LineProcess implements Channel {
  readonly label: string;
  readonly ready: Promise<ReadyLine>;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #pending = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  #next = 1;
  #stderr = '';
  #exited: string | null = null;
  readonly #exit: Promise<void>;

  constructor(label: string, launch: Launch, cwd: string, readyTimeoutMs = 30_000) {
    this.label = label;
    this.#child = spawn(launch.command, launch.args, {
      cwd,
      env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', ...launch.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#child.stderr.setEncoding('utf8');
    this.#child.stderr.on('data', (chunk: string) => {
      // Keep the last 8 KiB for failure messages.
      this.#stderr = (this.#stderr + chunk).slice(-8192);
    });
    this.#child.stdin.on('error', () => {});
    this.#exit = new Promise((resolve) => {
      this.#child.on('exit', (code, signal) => {
        this.#exited = `exited (code ${code}, signal ${signal})`;
        for (const p of this.#pending.values()) p.reject(this.#failure(`${label} ${this.#exited}`));
        this.#pending.clear();
        resolve();
      });
      this.#child.on('error', (error) => {
        this.#exited = `could not start: ${error.message}`;
        resolve();
      });
    });
    let readyResolve!: (line: ReadyLine) => void;
    let readyReject!: (e: Error) => void;
    this.ready = new Promise((resolve, reject) => ((readyResolve = resolve), (readyReject = reject)));
    const readyTimer = setTimeout(() => readyReject(this.#failure(`${label} printed no ready line within ${readyTimeoutMs} ms`)), readyTimeoutMs);
    void this.#exit.then(() => readyReject(this.#failure(`${label} ${this.#exited} before its ready line`)));
    const lines = createInterface({ input: this.#child.stdout, crlfDelay: Infinity });
    lines.on('line', (line) => {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(line);
      } catch {
        this.#stderr = (this.#stderr + `[stdout] ${line}\n`).slice(-8192);
        return;
      }
      if (message.ready === true) {
        clearTimeout(readyTimer);
        readyResolve(message as unknown as ReadyLine);
        return;
      }
      const pending = this.#pending.get(message.id as number);
      if (pending === undefined) return;
      this.#pending.delete(message.id as number);
      if (message.ok === true) {
        const { id: _id, ok: _ok, ...result } = message;
        pending.resolve(result);
      }
      else pending.reject(new CommandError(String(message.error), typeof message.status === 'number' ? message.status : undefined));
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  #failure(message: string): Error {
    const tail = this.#stderr.trim();
    return new Error(tail === '' ? message : `${message}\n--- ${this.label} stderr (tail) ---\n${tail}`);
  }

  request<T = Record<string, unknown>>(command: Record<string, unknown>, timeoutMs = DEFAULT_TIMEOUT): Promise<T> {
    if (this.#exited !== null) return Promise.reject(this.#failure(`${this.label} ${this.#exited}`));
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(this.#failure(`${this.label}: no answer to ${JSON.stringify(command).slice(0, 200)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v as T)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.#child.stdin.write(`${JSON.stringify({ ...command, id })}\n`);
    });
  }

  /** Asks it to exit, then ends it by pid after 3 s. */
  async stop(): Promise<void> {
    if (this.#exited !== null) return;
    this.request({ op: 'exit' }, 2000).catch(() => {});
    this.#child.stdin.end();
    const timer = setTimeout(() => {
      if (this.#exited === null) this.#child.kill('SIGKILL');
    }, 3000);
    await this.#exit;
    clearTimeout(timer);
  }
}

/** A {@link DriverCore} in this process, behind the same interface. */
export class InProcessDriver implements Channel {
  readonly label: string;
  readonly #core: DriverCore;

  constructor(label: string, adapter: ClientAdapter) {
    this.label = label;
    this.#core = new DriverCore(adapter);
  }

  async request<T = Record<string, unknown>>(command: Record<string, unknown>, timeoutMs = DEFAULT_TIMEOUT): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.label}: no answer to ${JSON.stringify(command).slice(0, 200)} within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return (await Promise.race([this.#core.handle(command as never), timeout])) as T;
    } catch (error) {
      if (error instanceof HandshakeRefused) throw new CommandError(error.message, error.status);
      if (error instanceof CommandError || (error as Error).message?.startsWith(this.label)) throw error;
      throw new CommandError(String((error as Error)?.message ?? error));
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    await this.#core.handle({ op: 'exit' });
  }
}
