/**
 * A tool server's life, written once for every runtime: the line it prints once it
 * listens ({@link listeningLine}), and its end on SIGINT or SIGTERM ({@link closeOnSignal}):
 * it says so on standard error, closes the server (every connection gets 1001 Going Away)
 * and exits 0; a server that does not close within {@link SHUTDOWN_GRACE} ms exits 0
 * anyway, a failed close or a second signal exits 1. The runtime's process calls come in as
 * a {@link ProcessHost} (`tools/process_host.ts` for Node and Bun, `packages/deno/bin/cli.ts`
 * for Deno), so this file imports nothing and loads on every runtime.
 * @module
 */

/** Milliseconds a shutdown may take before the process exits anyway (connections get 5 s to close). */
export const SHUTDOWN_GRACE = 7000;

/** The signals a tool server stops on. */
export type StopSignal = 'SIGINT' | 'SIGTERM';

/** The runtime's process, as a shutdown needs it. */
export interface ProcessHost {
  /** Writes one line (no newline given) to standard error. */
  writeError(line: string): void;
  /** Ends the process with `code`. */
  exit(code: number): void;
  /** Calls `listener` on `signal` until the returned function is called. */
  onSignal(signal: StopSignal, listener: () => void): () => void;
  /**
   * After a clean close: `true` ends the process with 0 at once; `false` only stops
   * listening for the signals and lets the process end when nothing is left to do.
   */
  readonly exitWhenClosed: boolean;
}

/** A server that can be closed. */
export interface ClosableServer {
  close(): Promise<void>;
}

/**
 * Closes `server` on the first SIGINT or SIGTERM, naming `tool` in what it writes.
 *
 * @example
 * ```ts
 * const server = await serve({ port: 0, handler: echoBack });
 * closeOnSignal('echo', server, processHost(true));
 * ```
 */
export function closeOnSignal(tool: string, server: ClosableServer, host: ProcessHost): void {
  let stopping = false;
  const stop = (signal: StopSignal): void => {
    if (stopping) {
      host.writeError(`${tool}: ${signal} again, exiting at once`);
      host.exit(1);
      return;
    }
    stopping = true;
    host.writeError(`${tool}: ${signal}, closing`);
    const timer = setTimeout(() => {
      host.writeError(`${tool}: connections did not close in time, exiting`);
      host.exit(0);
    }, SHUTDOWN_GRACE);
    // Where timers can be unreferenced (Node, Bun), the grace period alone keeps no process alive.
    (timer as { unref?: () => unknown }).unref?.();
    server.close().then(
      () => {
        clearTimeout(timer);
        if (host.exitWhenClosed) host.exit(0);
        else for (const remove of removers) remove();
      },
      (error: unknown) => {
        host.writeError(`${tool}: closing failed: ${String(error)}`);
        host.exit(1);
      },
    );
  };
  const removers = [host.onSignal('SIGINT', () => stop('SIGINT')), host.onSignal('SIGTERM', () => stop('SIGTERM'))];
}

/**
 * The line a tool server prints once it listens, e.g. `listening on ws://127.0.0.1:9001`
 * (brackets around an IPv6 address).
 *
 * @example
 * ```ts
 * console.log(listeningLine('::1', 9001)); // listening on ws://[::1]:9001
 * ```
 */
export function listeningLine(host: string, port: number): string {
  return `listening on ws://${authority(host, port)}`;
}

/** Formats a host and port as a URL authority (brackets around an IPv6 address). */
export function authority(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
