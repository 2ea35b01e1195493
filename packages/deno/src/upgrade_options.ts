/**
 * What a server-side upgrade can be told: path, subprotocols, origins, an async
 * authorization hook, limits and timers — the options of `@wsflow/node`, with a WHATWG
 * `Request` (as `Deno.serve` gives) where Node passes its `IncomingMessage`.
 * @module
 */
import type { HeaderFieldsInit } from '@wsflow/codec';
import type { ConnectionSettings } from './connection_settings.ts';

/** What the {@link UpgradeOptions.authorize} hook sees of an upgrade request. */
export interface AuthorizeRequest {
  /** The requested URL, with scheme `ws:` or `wss:` and the `Host` the client sent. */
  url: URL;
  /** The request's header fields (repeated fields kept). */
  headers: Headers;
  /** The `Cookie` field parsed into a record (see `parseCookies`). */
  cookies: Record<string, string>;
  /** The peer's IP address. */
  remoteAddress: string | undefined;
  /** The `Origin` field, when sent (browsers always send it). */
  origin: string | undefined;
  /** The subprotocol that will be selected, `''` for none. */
  protocol: string;
  /** The request itself (`http:`/`https:` URL, as `Deno.serve` would give it). */
  request: Request;
}

/** How the upgrade hook refuses a handshake: an HTTP error response. */
export interface UpgradeRejection {
  /** The HTTP status, 300–599, e.g. 401 or 403. */
  status: number;
  /** Extra response fields, e.g. `{ 'WWW-Authenticate': 'Bearer' }`. */
  headers?: HeaderFieldsInit;
  /** A plain-text body. Default empty. */
  body?: string;
}

/** What the upgrade hook answers: nothing to accept, an {@link UpgradeRejection} to refuse. */
export type AuthorizeResult = void | undefined | UpgradeRejection;

/** Why a server refused or dropped an upgrade, as passed to {@link UpgradeOptions.onReject}. */
export interface RejectionInfo {
  /** The status answered, or 0 when the conn was dropped without an answer (timeout, peer gone). */
  status: number;
  /**
   * A stable reason: a codec `HandshakeError` code (`BAD_KEY`, `FORBIDDEN_ORIGIN`,
   * `MALFORMED_HEAD`, `HEAD_TOO_LARGE`, …), `NOT_UPGRADE` (plain HTTP answered 426),
   * `PATH_MISMATCH`, `REJECTED` (the hook refused), `HOOK_FAILED` (the hook or
   * `handleProtocols` threw, or picked a protocol not offered), `TIMEOUT`, `SOCKET_CLOSED`
   * or `SHUTTING_DOWN`.
   */
  code: string;
  /** The error behind it, if any. */
  error?: unknown;
  /** The request refused, when its head could be read. */
  request: Request | undefined;
}

/**
 * Options of a server-side upgrade.
 *
 * @example
 * ```ts
 * const options: UpgradeOptions = {
 *   path: '/chat',
 *   handleProtocols: (offered) => (offered.includes('chat.v2') ? 'chat.v2' : null),
 *   allowedOrigins: ['https://app.example.com'],
 *   authorize: async ({ cookies }) => ((await sessions.has(cookies.sid)) ? undefined : { status: 401 }),
 *   maxMessage: 1 << 20,
 *   heartbeat: { interval: 30_000 },
 * };
 * ```
 */
export interface UpgradeOptions extends ConnectionSettings {
  /**
   * The only path (URL pathname, exact match) served. Default: every path. An upgrade for
   * another path goes to the `fallback` when there is one, else is refused with 400.
   */
  path?: string;
  /**
   * Picks the subprotocol among those the client offered, in its order; `null` or
   * `undefined` selects none. Called only when some were offered. Default: none.
   */
  handleProtocols?: (offered: string[], request: Request) => string | null | undefined;
  /**
   * Origins allowed to connect: exact `Origin` values, or a predicate. With a list, a
   * request without `Origin` is refused. Refusal is 403. Default: any origin.
   */
  allowedOrigins?: readonly string[] | ((origin: string | undefined, request: Request) => boolean);
  /**
   * Decides, possibly asynchronously, whether to accept a valid upgrade request: return
   * nothing to accept, or `{ status, headers?, body? }` to refuse with that response. A
   * throw refuses with 500. It runs after the RFC 6455 checks and within
   * `handshakeTimeout`. Default: accept.
   */
  authorize?: (request: AuthorizeRequest) => AuthorizeResult | Promise<AuthorizeResult>;
  /** Extra fields for the 101 response. */
  headers?: HeaderFieldsInit;
  /** Told of every refused or dropped upgrade (for logs and metrics). */
  onReject?: (info: RejectionInfo) => void;
  /** The largest request head accepted, in bytes (431 above). Default 16 KiB. */
  maxHeadSize?: number;
}
