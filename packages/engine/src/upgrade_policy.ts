/**
 * The server's policy on an upgrade request, the same on every runtime: the `path` option,
 * the options' `allowedOrigins` and `handleProtocols` called with the runtime's own
 * request, the async `authorize` hook racing the handshake timeout, shutdown and the peer
 * leaving. The protocol rules (RFC 6455 §4.2 checks, negotiation, the 101 and the refusal
 * bytes) are the codec's {@link ServerHandshake}: this module feeds the policy's answers
 * into its decision. Generic in the runtime's request type (Node's `IncomingMessage`, a
 * WHATWG `Request`); sans-I/O: the driver writes the bytes, closes the socket and tells
 * `onReject`.
 * @module
 */
import type { Timers } from '@wsflow/codec';
import type { DeflateEngine } from '@wsflow/codec';
import { resolveDeflate, serverDeflateNegotiator } from '@wsflow/codec';
import { HandshakeDeadline } from './handshake_deadline.ts';
import { listContainsToken } from '@wsflow/codec';
import type { HeaderFieldsInit, HeaderLookup } from '@wsflow/codec';
import { ServerHandshake, WEBSOCKET_VERSION, type HandshakeRefusal, type ServerAcceptance, type ServerHandshakeOptions, type UpgradeRequest } from '@wsflow/codec';
import { checkTimeout, DEFAULT_HANDSHAKE_TIMEOUT, type ConnectionSettings } from './shim_settings.ts';

/** What the {@link UpgradeOptions.authorize} hook sees of an upgrade request. */
export interface AuthorizeRequest<R> {
  /** The requested URL, with scheme `ws:` or `wss:` and the `Host` the client sent. */
  url: URL;
  /** The request's header fields (repeated fields kept, as a WHATWG `Headers`). */
  headers: Headers;
  /** The `Cookie` field parsed into a record (see `parseCookies`). */
  cookies: Record<string, string>;
  /** The peer's IP address, when the socket knows it. */
  remoteAddress: string | undefined;
  /** The `Origin` field, when sent (browsers always send it). */
  origin: string | undefined;
  /** The subprotocol that will be selected, `''` for none. */
  protocol: string;
  /**
   * The runtime's request itself, for anything else: Node's `IncomingMessage`; on Deno and
   * Bun a WHATWG `Request` with an `http:`/`https:` URL, as `Deno.serve`/`Bun.serve` give.
   */
  request: R;
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
export interface RejectionInfo<R> {
  /** The status answered, or 0 when the socket was dropped without an answer (timeout, peer gone). */
  status: number;
  /**
   * A stable reason: a codec `HandshakeError` code (`BAD_KEY`, `FORBIDDEN_ORIGIN`,
   * `MALFORMED_HEAD`, `HEAD_TOO_LARGE`, …), `PATH_MISMATCH`, `REJECTED` (the hook refused),
   * `HOOK_FAILED` (the hook or `handleProtocols` threw, or picked a protocol not offered),
   * `BAD_OPTIONS` (an invalid option such as `handshakeTimeout`), `TIMEOUT`,
   * `SOCKET_CLOSED`, `SHUTTING_DOWN` or `EVICTED` (dropped to make room under
   * `maxPendingHandshakes`); where the shim reads requests itself, also the code
   * of a plain HTTP request answered 426 (`NOT_UPGRADE` on Deno, `UPGRADE_REQUIRED` on Bun).
   */
  code: string;
  /** The error behind it, if any. */
  error?: unknown;
  /** The request refused (on Deno and Bun `undefined` when its head could not be read). */
  request: R;
}

/**
 * Options of a server-side upgrade, with `R` the runtime's request type and `RejectedRequest`
 * what `onReject` is told of it.
 *
 * @example
 * ```ts
 * const options: UpgradeOptions<Request> = {
 *   path: '/chat',
 *   handleProtocols: (offered) => (offered.includes('chat.v2') ? 'chat.v2' : null),
 *   allowedOrigins: ['https://app.example.com'],
 *   authorize: async ({ cookies }) => ((await sessions.has(cookies.sid)) ? undefined : { status: 401 }),
 *   maxMessage: 1 << 20,
 *   heartbeat: { interval: 30_000 },
 * };
 * ```
 */
export interface UpgradeOptions<R, RejectedRequest = R> extends ConnectionSettings {
  /**
   * The only path (URL pathname, exact match) served. Default: every path. An upgrade for
   * another path is refused with 400 (Node's `attach` leaves it to other `upgrade`
   * listeners; Deno's `serve` hands it to its `fallback` when there is one).
   */
  path?: string;
  /**
   * Picks the subprotocol among those the client offered, in its order; `null` or
   * `undefined` selects none. Called only when some were offered. Default: none.
   */
  handleProtocols?: (offered: string[], request: R) => string | null | undefined;
  /**
   * Origins allowed to connect: exact `Origin` values, or a predicate. With a list, a
   * request without `Origin` is refused. Refusal is 403. Default: any origin.
   */
  allowedOrigins?: readonly string[] | ((origin: string | undefined, request: R) => boolean);
  /**
   * Decides, possibly asynchronously, whether to accept a valid upgrade request: return
   * nothing to accept, or `{ status, headers?, body? }` to refuse with that response. A
   * throw refuses with 500. It runs after the RFC 6455 checks and within
   * `handshakeTimeout`. Default: accept.
   */
  authorize?: (request: AuthorizeRequest<R>) => AuthorizeResult | Promise<AuthorizeResult>;
  /** Extra fields for the 101 response. */
  headers?: HeaderFieldsInit;
  /** Told of every refused or dropped upgrade (for logs and metrics). */
  onReject?: (info: RejectionInfo<RejectedRequest>) => void;
}

/** What the authorize hook sees of a request besides what the policy negotiated. */
export interface UpgradeDescription {
  url: URL;
  headers: Headers;
  cookies: Record<string, string>;
  remoteAddress: string | undefined;
}

/** An upgrade request as a shim hands it to {@link decideUpgrade}. */
export interface UpgradeSubject<R> {
  /** The request as the RFC 6455 checks read it: a parsed `RequestHead`, or an adapter over the runtime's request. */
  head: UpgradeRequest;
  /** The request-target as sent (path and query), for the `path` option. */
  target: string;
  /** The runtime's request for the hooks; built on first use, and may throw (an unusable URL). */
  request(): R;
  /** The rest of what `authorize` sees; called only when there is a hook. */
  describe(): UpgradeDescription;
}

/** How the shim's side of one handshake reaches {@link decideUpgrade}. */
export interface UpgradeControl {
  /** The runtime's timers, for the handshake timeout of the `authorize` phase. */
  timers: Timers;
  /** The server's shutdown: once aborted, a new handshake is refused with 503 and one under way dropped. */
  signal?: AbortSignal;
  /**
   * The deadline of a handshake the engine started earlier (to cover reading the request
   * head), which stops with the drop code (`'TIMEOUT'`, `'SHUTTING_DOWN'`, …) when the
   * handshake must be dropped. The policy races its `authorize` hook against it (and
   * `watch` stops it) and starts no timer; without one, it starts its own from
   * `handshakeTimeout`, and only when there is an `authorize` hook.
   */
  deadline?: HandshakeDeadline<string>;
  /**
   * Called as the async phase starts with a function dropping the handshake (e.g. with
   * `'SOCKET_CLOSED'` when the peer leaves); may return a function that unsubscribes.
   */
  watch?: (drop: (code: string) => void) => (() => void) | void;
  /** Whether the socket is gone already, asked once the async phase is over. */
  closed?: () => boolean;
  /** The codec's decision for this handshake (the one that read the head, if any). */
  handshake: ServerHandshake;
  /** The shim's DEFLATE engine, for a `perMessageDeflate` setting that names none. */
  deflateEngine?: DeflateEngine;
}

/**
 * A refused or dropped handshake: the codec's refusal (its `response` to write, empty for
 * a drop with status 0) and the code for `onReject`.
 */
export type UpgradeRefusal = HandshakeRefusal;

/** An accepted handshake: the codec's acceptance (the 101 to write, then the connection to bind). */
export interface UpgradeAcceptance<R> {
  readonly kind: 'accept';
  /** What the codec decided: the 101 `response`, `protocol`, `extensionHeader`, … */
  readonly decision: ServerAcceptance;
  /**
   * The runtime's request, for the connection handler: built on the first call (a WHATWG
   * `Request` costs more than the rest of a handshake), and it may throw (an unusable URL).
   */
  readonly request: () => R;
}

/** The outcome of {@link decideUpgrade}. */
export type UpgradeDecision<R> = UpgradeAcceptance<R> | UpgradeRefusal;

/**
 * What a server that reads requests itself answers a request that is not a WebSocket
 * upgrade, lacking a fallback: 426 naming what is spoken here (RFC 6455 §4.2.2 item 4, by
 * analogy with a version it does not speak; RFC 9110 §15.5.22).
 */
export const UPGRADE_REQUIRED: Readonly<{ status: 426; headers: Readonly<Record<string, string>>; body: string }> = {
  status: 426,
  headers: { Upgrade: 'websocket', 'Sec-WebSocket-Version': WEBSOCKET_VERSION },
  body: 'This server speaks WebSocket only\n',
};

/**
 * Whether a request asks for a WebSocket upgrade at all (its `Upgrade` field lists
 * `websocket`, RFC 6455 §4.2.1 item 3): one that does not is plain HTTP, for a fallback or
 * {@link UPGRADE_REQUIRED}; one that does is refused, if invalid, by {@link decideUpgrade}.
 * @example
 * ```ts
 * isWebSocketUpgrade(head); // true for `Upgrade: websocket`
 * ```
 */
export function isWebSocketUpgrade(request: { headers: HeaderLookup }): boolean {
  return listContainsToken(request.headers.get('upgrade') ?? '', 'websocket');
}

/**
 * The pathname of a request-target, without the query: what the `path` option is compared
 * with (an absolute-form target's path too; a target no URL parser takes, up to its `?`).
 * @example
 * ```ts
 * targetPath('/chat?room=1'); // '/chat'
 * ```
 */
export function targetPath(target: string): string {
  try {
    return new URL(target, 'ws://localhost').pathname;
  } catch {
    return target.split('?')[0];
  }
}

/**
 * A handshake dropped without an answer (status 0), reported as `code`.
 * @example
 * ```ts
 * dropped('TIMEOUT'); // { kind: 'refuse', status: 0, code: 'TIMEOUT', response: Uint8Array(0) }
 * ```
 */
export function dropped(code: string, error?: unknown): HandshakeRefusal {
  return { kind: 'refuse', status: 0, code, response: NO_BYTES, error };
}

const NO_BYTES = new Uint8Array(0);

function isRejection(result: AuthorizeResult): result is UpgradeRejection {
  return typeof result === 'object' && result !== null && typeof (result as UpgradeRejection).status === 'number';
}

/**
 * Decides an upgrade request. In order: a handshake already dropped (status 0, its code);
 * shutdown (503 `SHUTTING_DOWN`); the `path` option (400 `PATH_MISMATCH`); the codec's
 * decision ({@link ServerHandshake.decide}) with `allowedOrigins`, `handleProtocols`,
 * permessage-deflate and `headers` fed in (its refusal: a `HandshakeError`'s status and
 * code, or 500 `HOOK_FAILED` when a hook threw); then, with an `authorize` hook, the hook
 * racing the handshake timeout (`TIMEOUT`), shutdown (`SHUTTING_DOWN`) and whatever the
 * shim's `watch` reports (`SOCKET_CLOSED`), each a drop (status 0); a hook that throws is
 * 500 `HOOK_FAILED`, one that refuses is its status with `REJECTED` (500 `HOOK_FAILED` if
 * that cannot be sent); an invalid `handshakeTimeout` is 500 `BAD_OPTIONS`. Never rejects.
 *
 * Without a hook and without a shim's deadline nothing can stall: no timer is started.
 *
 * @example
 * ```ts
 * const decision = await decideUpgrade(subject, options, { timers, handshake: new ServerHandshake() });
 * if (decision.kind === 'accept') socket.write(decision.decision.response);
 * else if (decision.status > 0) socket.end(decision.response);
 * else socket.destroy();
 * ```
 */
export async function decideUpgrade<R>(
  subject: UpgradeSubject<R>,
  // `never`: the policy does not call onReject, so any shim's options fit.
  options: UpgradeOptions<R, never>,
  control: UpgradeControl,
): Promise<UpgradeDecision<R>> {
  const given = control.deadline;
  if (given?.stopped) return dropped(given.reason!);
  if (control.signal?.aborted) return ServerHandshake.refuse(503, 'SHUTTING_DOWN');
  if (options.path !== undefined && targetPath(subject.target) !== options.path) {
    return ServerHandshake.refuse(400, 'PATH_MISMATCH', { body: 'No WebSocket endpoint at this path' });
  }

  const { allowedOrigins, handleProtocols } = options;
  let deflate;
  try {
    deflate = resolveDeflate(options.perMessageDeflate, control.deflateEngine);
  } catch (error) {
    return ServerHandshake.refuse(500, 'BAD_OPTIONS', { error });
  }
  const answers: ServerHandshakeOptions = {
    allowedOrigins: typeof allowedOrigins === 'function' ? (origin) => allowedOrigins(origin, subject.request()) : allowedOrigins,
    handleProtocols: handleProtocols === undefined ? undefined : (offered) => handleProtocols(offered, subject.request()),
    // RFC 7692 §5.1: permessage-deflate is the one extension a server accepts.
    negotiateExtensions: deflate === null ? undefined : serverDeflateNegotiator(deflate),
    headers: options.headers,
  };
  const decision = control.handshake.decide(subject.head, answers);
  if (decision.kind === 'refuse') return decision;
  const accept = (): UpgradeDecision<R> => ({ kind: 'accept', decision, request: subject.request });

  const { authorize } = options;
  if (authorize === undefined) {
    if (given?.stopped) return dropped(given.reason!);
    if (control.closed?.() === true) return dropped('SOCKET_CLOSED');
    return accept();
  }

  let deadline: HandshakeDeadline<string>;
  if (given !== undefined) deadline = given;
  else {
    try {
      deadline = HandshakeDeadline.forServer(checkTimeout('handshakeTimeout', options.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT), control.timers, control.signal);
    } catch (error) {
      return ServerHandshake.refuse(500, 'BAD_OPTIONS', { error });
    }
  }
  const unwatch = control.watch?.((code) => deadline.stop(code));
  const work = async (): Promise<AuthorizeResult> =>
    authorize({ ...subject.describe(), origin: decision.origin, protocol: decision.protocol, request: subject.request() });
  let outcome;
  try {
    outcome = await deadline.settle(work());
  } finally {
    unwatch?.();
    // The engine's deadline goes on to cover the 101; the engine disposes of it.
    if (deadline !== given) deadline.dispose();
  }
  if ('stopped' in outcome) return dropped(outcome.stopped);
  if (deadline.stopped || control.closed?.() === true) return dropped(deadline.reason ?? 'SOCKET_CLOSED');
  if ('error' in outcome) return ServerHandshake.refuse(500, 'HOOK_FAILED', { error: outcome.error });
  const result = outcome.value;
  if (isRejection(result)) return ServerHandshake.refuse(result.status, 'REJECTED', { headers: result.headers, body: result.body });
  return accept();
}
