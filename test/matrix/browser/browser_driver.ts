/**
 * The matrix's client drivers inside a page, installed as `globalThis.__matrixDrivers`:
 * `websocket`, Chromium's own `WebSocket`, and `stream`, its `WebSocketStream`, each
 * behind a {@link DriverCore}. Bundled with esbuild by test-e2e/matrix.spec.ts and driven
 * with `page.evaluate`.
 * @module
 */
import { DriverCore } from '../driver_core.ts';
import { webSocketStreamAdapter } from '../websocketstream_adapter.ts';
import { whatwgAdapter } from '../whatwg_adapter.ts';

const g = globalThis as unknown as { WebSocketStream?: unknown; __matrixDrivers: Record<string, DriverCore> };
g.__matrixDrivers = {
  // The standard constructor: (url, protocols); a page cannot choose its Origin.
  websocket: new DriverCore(whatwgAdapter(globalThis.WebSocket, { init: (o) => o.protocols })),
  ...(g.WebSocketStream === undefined ? {} : { stream: new DriverCore(webSocketStreamAdapter(g.WebSocketStream)) }),
};
