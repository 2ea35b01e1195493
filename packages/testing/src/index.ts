// @wsflow/testing: the test kit's matchers and helpers; the runner entries are
// '@wsflow/testing/vitest' and '@wsflow/testing/jest', the ws drop-in '@wsflow/testing/ws',
// the Playwright fixture '@wsflow/testing/playwright'. This file only re-exports.
export { wsflowMatchers, watch, type MatcherContext, type MatcherResult, type MatcherWaitOptions, type WebSocketLike, type WsflowMatchers } from './matchers.ts';
export {
  TestConnection,
  TestHandshake,
  TestServer,
  WaitTimeoutError,
  configureTestKit,
  resetTestServers,
  type TestServerOptions,
  type WaitOptions,
} from '@wsflow/websocket';
