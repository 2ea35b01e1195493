/**
 * `import '@wsflow/testing/vitest'` — one line (in a test file or a `setupFiles` entry):
 * adds the test kit's matchers to Vitest's `expect`, with their types, and drops every
 * TestServer (restoring the globals they installed) after each test.
 * @module
 */
import { afterEach, expect } from 'vitest';
import { resetTestServers } from '@wsflow/websocket';
import { wsflowMatchers, type WsflowMatchers } from './matchers.ts';

expect.extend(wsflowMatchers);
afterEach(() => resetTestServers());

declare module 'vitest' {
  // Vitest's own declaration: the same type parameters, defaults included.
  interface Matchers<R extends void | Promise<void> = void | Promise<void>, T = unknown> extends WsflowMatchers<void> {}
}

export { wsflowMatchers, watch, type WsflowMatchers } from './matchers.ts';
