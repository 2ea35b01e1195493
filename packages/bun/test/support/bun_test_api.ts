// The parts of Bun's API the tests use beyond the shim's own (bun-types is not installed):
// the native server (`Bun.serve` with `websocket` handlers), `Bun.spawnSync` and `Bun.spawn`.
import { bunRuntime, type BunApi } from '../../src/bun_types.ts';

/** A native server-side WebSocket of `Bun.serve`. */
export interface NativeServerWebSocket {
  send(data: string | Uint8Array, compress?: boolean): number;
  close(code?: number, reason?: string): void;
  readonly data: unknown;
  readonly readyState: number;
}

/** `Bun.serve` with `websocket` handlers, as far as the tests use it. */
export interface NativeServeOptions {
  hostname: string;
  port: number;
  fetch(request: Request, server: NativeServer): Response | undefined | Promise<Response | undefined>;
  websocket: {
    open?(ws: NativeServerWebSocket): void;
    message(ws: NativeServerWebSocket, message: string | Uint8Array): void;
    close?(ws: NativeServerWebSocket, code: number, reason: string): void;
    maxPayloadLength?: number;
    perMessageDeflate?: boolean;
  };
}

export interface NativeServer {
  readonly port: number;
  upgrade(request: Request, options?: { headers?: HeadersInit; data?: unknown }): boolean;
  stop(closeActiveConnections?: boolean): void;
}

export interface SpawnSyncResult {
  exitCode: number | null;
  stdout: Uint8Array;
  stderr: Uint8Array;
}

export interface Subprocess {
  readonly pid: number;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly exited: Promise<number>;
  kill(signal?: number | string): void;
}

interface BunTestApi extends BunApi {
  serve(options: NativeServeOptions): NativeServer;
  spawnSync(command: string[], options?: { stdout?: 'pipe' | 'ignore'; stderr?: 'pipe' | 'ignore'; cwd?: string }): SpawnSyncResult;
  spawn(command: string[], options?: { stdin?: 'pipe' | 'ignore'; stdout?: 'pipe' | 'ignore' | 'inherit'; stderr?: 'pipe' | 'ignore' | 'inherit'; cwd?: string; env?: Record<string, string | undefined> }): Subprocess;
  which(command: string): string | null;
}

export const Bun = bunRuntime() as BunTestApi;
