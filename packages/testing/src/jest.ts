/**
 * `import '@wsflow/testing/jest'` — one line (in a test file or `setupFilesAfterEach`):
 * adds the test kit's matchers to Jest's global `expect`, with their types, and drops
 * every TestServer (restoring the globals they installed) after each test.
 * @module
 */
import { resetTestServers } from '@wsflow/websocket';
import { wsflowMatchers, type WsflowMatchers } from './matchers.ts';

interface JestGlobals {
  expect?: { extend(matchers: object): void };
  afterEach?: (fn: () => Promise<void>) => void;
}

const jestGlobals = globalThis as JestGlobals;
if (jestGlobals.expect === undefined || jestGlobals.afterEach === undefined) {
  throw new Error('@wsflow/testing/jest: import it inside a Jest test run (the globals expect and afterEach are missing)');
}
jestGlobals.expect.extend(wsflowMatchers);
jestGlobals.afterEach(() => resetTestServers());

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    interface Matchers<R> extends WsflowMatchers<R> {}
  }
}


export { wsflowMatchers, watch, type WsflowMatchers } from './matchers.ts';
