/**
 * The runtime shim under test: `#shim` is @wsflow/node under Vitest, @wsflow/deno under
 * Deno and @wsflow/bun under Bun (see vitest.config.ts and scripts/test-runtimes.mjs), so
 * that every behaviour here is written once and run on every runtime.
 * @module
 */
export { LocalBackplane, WebSocket, WebSocketStream, connect, serve } from '#shim';
export type { Backplane, ErrorContext, RejectionInfo, ServerConnection, WebSocketConnection } from '#shim';

/** The runtime these tests run on. */
export const runtime: 'node' | 'deno' | 'bun' =
  'Deno' in globalThis ? 'deno' : 'Bun' in globalThis ? 'bun' : 'node';
