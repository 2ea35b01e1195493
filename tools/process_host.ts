/**
 * The Node-style `process` as a {@link ProcessHost}: Node runs the tools with it, and Bun,
 * whose `process` is the same, runs `packages/bun/bin/` with it. It uses only the global
 * `process` (no `node:` import), so Bun loads it as it is.
 * @module
 */
import type { ProcessHost } from './tool_lifecycle.ts';

/**
 * The global `process` as a {@link ProcessHost}.
 * @param exitWhenClosed see {@link ProcessHost.exitWhenClosed}
 *
 * @example
 * ```ts
 * closeOnSignal('echo', server, processHost(true));
 * ```
 */
export function processHost(exitWhenClosed: boolean): ProcessHost {
  return {
    writeError: (line) => void process.stderr.write(`${line}\n`),
    exit: (code) => process.exit(code),
    onSignal: (signal, listener) => {
      process.on(signal, listener);
      return () => void process.off(signal, listener);
    },
    exitWhenClosed,
  };
}
