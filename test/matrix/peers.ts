/**
 * The peers of the interop matrix: every server kind and client kind, what each cannot
 * do (with the reason, which the matrix prints for the cells it makes not applicable),
 * and the known limitations of runtimes (real failures, each with the runtime's issue).
 *
 * How each is started lives with the runners (matrix.test.ts, test-e2e/matrix.spec.ts).
 * @module
 */

/** What a client may be unable to do. */
export type ClientCapability =
  /** Send one message as several frames. */
  | 'sendFragments'
  /** Send a Ping and see its Pong. */
  | 'ping'
  /** Stop reading from the socket (so that the server's writes must wait). */
  | 'pause'
  /** Send an `Origin` of its choosing (browsers send their page's; see `originByPage`). */
  | 'origin'
  /** Send a Close frame without a status code. */
  | 'emptyClose';

/** What a server may be unable to do. */
export type ServerCapability =
  /** Send a Ping and see the Pong. */
  | 'ping'
  /** Make a sender wait while the peer does not read. */
  | 'backpressure';

/**
 * What a client does when it offered subprotocols and the server selected none (the 101
 * has no `Sec-WebSocket-Protocol`). RFC 6455 §4.1 lets the connection open (only a
 * protocol that was not offered fails it); the Fetch standard ("establish a WebSocket
 * connection": "If protocols is not the empty list and extracting header list values
 * given `Sec-WebSocket-Protocol` and response's header list results in null, failure, or
 * the empty byte sequence, then fail the WebSocket connection") makes WHATWG WebSockets fail.
 */
export interface NoSubprotocolRule {
  outcome: 'opens' | 'fails';
  why: string;
}

const RFC_OPENS: NoSubprotocolRule = { outcome: 'opens', why: 'RFC 6455 §4.1: only a subprotocol that was not offered fails the handshake' };
const FETCH_FAILS: NoSubprotocolRule = { outcome: 'fails', why: 'the Fetch standard fails a WebSocket whose offered subprotocols got no answer' };

/** A client kind. */
export interface ClientKind {
  id: string;
  title: string;
  /** Why it cannot do what it cannot. */
  cannot: Partial<Record<ClientCapability, string>>;
  /** Browsers: the `Origin` is the page's, so the runner supplies a page per origin. */
  originByPage?: boolean;
  /** Offered subprotocols, none selected: does it open? */
  noSubprotocol: NoSubprotocolRule;
}

/** A server kind. */
export interface ServerKind {
  id: string;
  title: string;
  cannot: Partial<Record<ServerCapability, string>>;
}

const WSFLOW_NO_FRAGMENTS =
  "wsflow's public API sends whole messages: WebSocketConnection.send() has no `fin` flag (the codec's WebSocketProtocol.sendText/sendBinary(data, fin) has one, but connections do not expose it)";
const WHATWG_NO_FRAGMENTS = 'the WHATWG WebSocket API sends whole messages (no way to send a fragment)';
const WHATWG_NO_PING = 'the WHATWG WebSocket API has no ping() (Pings are left to the user agent)';
const WHATWG_NO_PAUSE = 'the WHATWG WebSocket API cannot stop reading: messages are dispatched as they arrive (no backpressure; WebSocketStream would have it)';

/** wsflow's clients (matrix.test.ts runs them). */
export const WSFLOW_CLIENTS: readonly ClientKind[] = [
  { id: 'wsflow-node', title: 'wsflow client on Node', cannot: { sendFragments: WSFLOW_NO_FRAGMENTS }, noSubprotocol: RFC_OPENS },
  { id: 'wsflow-deno', title: 'wsflow client on Deno', cannot: { sendFragments: WSFLOW_NO_FRAGMENTS }, noSubprotocol: RFC_OPENS },
  { id: 'wsflow-bun', title: 'wsflow client on Bun', cannot: { sendFragments: WSFLOW_NO_FRAGMENTS }, noSubprotocol: RFC_OPENS },
];

/** Other clients against wsflow's servers (matrix.test.ts). */
export const OTHER_CLIENTS: readonly ClientKind[] = [
  {
    id: 'ws',
    title: 'ws 8 client (Node)',
    cannot: {},
    // By design ("Server sent no subprotocol"): https://github.com/websockets/ws/issues/1862
    noSubprotocol: { outcome: 'fails', why: 'ws fails it like browsers do ("Server sent no subprotocol", websockets/ws#1862)' },
  },
  {
    id: 'deno-native',
    title: "Deno's built-in WebSocket",
    cannot: { sendFragments: WHATWG_NO_FRAGMENTS, ping: WHATWG_NO_PING, pause: WHATWG_NO_PAUSE },
    // Observed: Deno's WebSocket opens, unlike the Fetch standard's rule (no upstream issue found).
    noSubprotocol: { outcome: 'opens', why: "Deno's WebSocket opens (the Fetch standard would fail it; no Deno issue found)" },
  },
  {
    id: 'bun-native',
    title: "Bun's built-in WebSocket",
    cannot: { sendFragments: WHATWG_NO_FRAGMENTS, pause: WHATWG_NO_PAUSE },
    noSubprotocol: FETCH_FAILS,
  },
  {
    id: 'python',
    title: 'Python websockets 10.4 client',
    cannot: { emptyClose: "websockets' close(code=1000, reason='') always sends a status code (Close(1005).serialize() is refused)" },
    noSubprotocol: RFC_OPENS,
  },
];

/** Chromium's clients, driven through Playwright (test-e2e/matrix.spec.ts). */
export const BROWSER_CLIENTS: readonly ClientKind[] = [
  {
    id: 'chromium',
    title: "Chromium's WebSocket (Playwright)",
    cannot: { sendFragments: WHATWG_NO_FRAGMENTS, ping: WHATWG_NO_PING, pause: WHATWG_NO_PAUSE, origin: 'a page cannot choose its Origin' },
    originByPage: true,
    noSubprotocol: FETCH_FAILS,
  },
  {
    id: 'chromium-stream',
    title: "Chromium's WebSocketStream (Playwright)",
    cannot: {
      sendFragments: 'WebSocketStream writes whole messages (no way to send a fragment)',
      ping: 'WebSocketStream has no ping() (Pings are left to the user agent)',
      origin: 'a page cannot choose its Origin',
    },
    originByPage: true,
    noSubprotocol: FETCH_FAILS,
  },
];

/** wsflow's servers. */
export const WSFLOW_SERVERS: readonly ServerKind[] = [
  { id: 'wsflow-node', title: 'wsflow server on Node', cannot: {} },
  { id: 'wsflow-deno', title: 'wsflow server on Deno', cannot: {} },
  { id: 'wsflow-bun', title: 'wsflow server on Bun', cannot: {} },
];

/** The runtimes' own servers, against wsflow's clients only. */
export const NATIVE_SERVERS: readonly ServerKind[] = [
  {
    id: 'deno-serve',
    title: 'Deno.serve + Deno.upgradeWebSocket',
    cannot: { ping: "Deno's server-side WebSocket has no ping() (only idleTimeout's automatic Pings)" },
  },
  { id: 'bun-serve', title: 'Bun.serve', cannot: {} },
];

/** A real failure of a runtime, expected until the runtime fixes it (the test then asks to be updated). */
export interface KnownLimitation {
  server?: string;
  client?: string;
  behaviour: string;
  /** The runtime's issue. */
  issue: string;
  note: string;
}

/** Known limitations: each cell runs, and must fail (Vitest `it.fails`), until fixed upstream. */
export const KNOWN_LIMITATIONS: readonly KnownLimitation[] = [
  {
    server: 'bun-serve',
    behaviour: 'subprotocol-none',
    issue: 'https://github.com/oven-sh/bun/issues/18243',
    note: 'Bun.serve answers the first offered subprotocol when the upgrade selects none (the client then reports "superchat")',
  },
];
