/**
 * The runtimes the tools can run on, as a table from the `--runtime` name to a loader of
 * that runtime's shim. The tools speak only to the small {@link RuntimeShim} surface, so a
 * runtime plugs in by adding one entry.
 *
 * To add Deno or Bun: add `deno: async () => …` (or `bun`) importing `@wsflow/deno`
 * (`@wsflow/bun`) and adapting its `serve`/`connect` as `node` does below, then run the tool
 * under that runtime (`deno run -A tools/echo.ts --runtime deno …`, `bun tools/echo.ts
 * --runtime bun …`); the entry should throw a clear error when loaded from another runtime.
 * @module
 */
import type { Limits, WebSocketConnection } from '@wsflow/codec';
import { UsageError } from './cli.ts';

/** What a tool asks of a server: where to listen, the limits, and a handler per connection. */
export interface ToolServeOptions extends Required<Limits> {
  port: number;
  host: string;
  /** Negotiate permessage-deflate (RFC 7692) with the shim's defaults. Default off. */
  perMessageDeflate?: boolean;
  /** Called with each accepted connection; it sets `onmessage` synchronously. */
  handler: (connection: WebSocketConnection) => void;
}

/** A listening server as the tools see it. */
export interface ToolServer {
  /** The port listened on (the OS's pick when 0 was asked for). */
  readonly port: number;
  /** Stops listening and closes every connection (1001 Going Away). */
  close(): Promise<void>;
}

/** What a tool asks of a client connection. */
export interface ToolConnectOptions extends Required<Limits> {
  /** Milliseconds the opening handshake may take. */
  handshakeTimeout: number;
  /** Offer permessage-deflate (RFC 7692) with the shim's defaults. Default off. */
  perMessageDeflate?: boolean;
}

/** The part of a runtime shim the tools use. */
export interface RuntimeShim {
  /** The runtime's name as given to `--runtime`. */
  readonly name: string;
  serve(options: ToolServeOptions): Promise<ToolServer>;
  connect(url: string, options: ToolConnectOptions): Promise<WebSocketConnection>;
}

/**
 * The known runtimes. Loaders import the shim lazily, so the table costs nothing and a
 * runtime's shim is loaded only when asked for.
 */
export const RUNTIMES: Readonly<Record<string, () => Promise<RuntimeShim>>> = {
  node: async () => {
    const shim = await import('@wsflow/node');
    return {
      name: 'node',
      serve: ({ handler, ...options }) => shim.serve({ ...options, handler: (connection) => handler(connection) }),
      // Conformance runs are local: never route them through a proxy from the environment.
      connect: (url, options) => shim.connect(url, { ...options, proxy: false }),
    };
  },
};

/**
 * Loads the shim of the runtime named by `--runtime`.
 * @throws {UsageError} for a runtime not in {@link RUNTIMES}, naming the known ones
 */
export async function loadRuntime(name: string): Promise<RuntimeShim> {
  const load = Object.hasOwn(RUNTIMES, name) ? RUNTIMES[name] : undefined;
  if (load === undefined) {
    throw new UsageError(`unknown runtime ${JSON.stringify(name)}; known runtimes: ${Object.keys(RUNTIMES).join(', ')}`);
  }
  return load();
}
