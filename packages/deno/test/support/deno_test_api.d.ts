/**
 * The Deno APIs the tests use beyond those `src/deno_api.d.ts` declares, for `tsc` runs
 * over the monorepo with Node and DOM types (`npm run typecheck` at the root). Deno's own
 * types apply under `deno check`, which never sees this file (nothing imports it).
 * @module
 */

declare namespace Deno {
  export interface Env {
    set(key: string, value: string): void;
    delete(key: string): void;
  }

  export interface CommandOptions {
    args?: string[];
    cwd?: string;
    env?: Record<string, string>;
    stdout?: 'piped' | 'inherit' | 'null';
    stderr?: 'piped' | 'inherit' | 'null';
  }
  export interface CommandOutput {
    code: number;
    success: boolean;
    stdout: Uint8Array<ArrayBuffer>;
    stderr: Uint8Array<ArrayBuffer>;
  }
  export interface CommandStatus {
    success: boolean;
    code: number;
    signal: string | null;
  }
  export interface ChildProcess {
    readonly pid: number;
    readonly stdout: ReadableStream<Uint8Array<ArrayBuffer>>;
    readonly stderr: ReadableStream<Uint8Array<ArrayBuffer>>;
    readonly status: Promise<CommandStatus>;
    kill(signo?: 'SIGTERM' | 'SIGKILL' | 'SIGINT'): void;
  }
  export class Command {
    constructor(command: string | URL, options?: CommandOptions);
    output(): Promise<CommandOutput>;
    spawn(): ChildProcess;
  }
  export function execPath(): string;

  export function makeTempDir(options?: { prefix?: string }): Promise<string>;
  export function writeTextFile(path: string | URL, data: string): Promise<void>;
  export function readTextFile(path: string | URL): Promise<string>;
  export function remove(path: string | URL, options?: { recursive?: boolean }): Promise<void>;

  export interface HttpClient {
    close(): void;
  }
  export function createHttpClient(options: { caCerts?: string[] }): HttpClient;

  export interface HttpServer<A extends Addr = Addr> {
    readonly addr: A;
    readonly finished: Promise<void>;
    shutdown(): Promise<void>;
  }
  export interface ServeOptions {
    port?: number;
    hostname?: string;
    cert?: string;
    key?: string;
    onListen?: (addr: NetAddr) => void;
  }
  export function serve(options: ServeOptions, handler: (request: Request) => Response | Promise<Response>): HttpServer<NetAddr>;

  export interface WebSocketUpgrade {
    response: Response;
    socket: WebSocket;
  }
  export function upgradeWebSocket(request: Request, options?: { protocol?: string }): WebSocketUpgrade;
}

interface RequestInit {
  /** Deno: the HTTP client (custom CA certificates) a `fetch` uses. */
  client?: Deno.HttpClient;
}
