/**
 * The server's decision on an upgrade request, the same on every runtime (RFC 6455 §4.2):
 * the `path` option, the RFC checks of {@link validateUpgradeRequest} with the options'
 * `allowedOrigins` and `handleProtocols` called with the runtime's own request, the async
 * `authorize` hook racing the handshake timeout, shutdown and the peer leaving, and the 101
 * response — or the refusal to answer. Generic in the runtime's request type (Node's
 * `IncomingMessage`, a WHATWG `Request` on Deno and Bun); sans-I/O: the shim writes the
 * bytes, closes the socket and tells `onReject`.
 * @module
 */
import type { Sha1 } from '@wsflow/codec';
import type { Timers } from '@wsflow/codec';
import type { DeflateEngine } from '@wsflow/codec';
import { resolveDeflate, serverDeflateNegotiator } from '@wsflow/codec';
import { HandshakeError } from '@wsflow/codec';
import { HandshakeDeadline } from './handshake_deadline.ts';
import { listContainsToken, serializeExtensionHeader } from '@wsflow/codec';
import type { HeaderFieldsInit, HeaderLookup } from '@wsflow/codec';
import {
  WEBSOCKET_VERSION,
  buildRejection,
  buildServerResponse,
  validateUpgradeRequest,
  type NegotiatedUpgrade,
  type ServerHandshakeOptions,
  type UpgradeRequest,
} from '@wsflow/codec';
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
   * The deadline of a handshake the shim started earlier (to cover reading the request
   * head): a signal that aborts, with the drop code (`'TIMEOUT'`, `'SHUTTING_DOWN'`, …) as
   * its reason, when the handshake must be dropped — a {@link HandshakeDeadline}'s `signal`.
   * The policy then races its async phase (with or without a hook) against it and starts no
   * timer; without one, it starts its own from `handshakeTimeout`, and only when there is an
   * `authorize` hook.
   */
  deadline?: AbortSignal;
  /**
   * Called as the async phase starts with a function dropping the handshake (e.g. with
   * `'SOCKET_CLOSED'` when the peer leaves); may return a function that unsubscribes.
   */
  watch?: (drop: (code: string) => void) => (() => void) | void;
  /** Whether the socket is gone already, asked once the async phase is over. */
  closed?: () => boolean;
  /** A SHA-1 for the accept key instead of Web Crypto's (see {@link Sha1}). */
  sha1?: Sha1;
  /** The shim's DEFLATE engine, for a `perMessageDeflate` setting that names none. */
  deflateEngine?: DeflateEngine;
}

/** A refused or dropped handshake: the answer to write (none for status 0) and the code for `onReject`. */
export interface UpgradeRefusal {
  accepted: false;
  /** The status to answer, or 0 to drop the socket without an answer. */
  status: number;
  /** The stable code of {@link RejectionInfo.code}. */
  code: string;
  /** The error behind it, if any. */
  error?: unknown;
  /** Extra fields of the answer. */
  headers?: HeaderFieldsInit;
  /** The answer's plain-text body. */
  body?: string;
}

/** An accepted handshake: the 101 to write, then the connection to bind. */
export interface UpgradeAcceptance<R> {
  accepted: true;
  /** The complete 101 response head. */
  response: string;
  /** What was negotiated (`protocol` for the connection). */
  negotiated: NegotiatedUpgrade;
  /** The accepted extensions as the `Sec-WebSocket-Extensions` value sent, `''` for none (for the connection). */
  extensions: string;
  /** The runtime's request, for the connection handler. */
  request: R;
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
 * The bytes of an HTTP error response refusing a handshake ({@link buildRejection}); an
 * invalid status or header (from a user's hook) becomes a bare 500.
 * @example
 * ```ts
 * socket.end(rejectionBytes(401, { 'WWW-Authenticate': 'Bearer' }, 'Sign in first'));
 * ```
 */
export function rejectionBytes(status: number, headers?: HeaderFieldsInit, body?: string): Uint8Array {
  let response: string;
  try {
    response = buildRejection(status, headers, body);
  } catch {
    response = buildRejection(500);
  }
  return new TextEncoder().encode(response);
}

/**
 * The code a dropped handshake is reported with: its deadline signal's reason when that is
 * a code, else `SOCKET_CLOSED`.
 * @example
 * ```ts
 * dropCode(deadline.signal); // 'TIMEOUT'
 * ```
 */
export function dropCode(signal: AbortSignal): string {
  return typeof signal.reason === 'string' ? signal.reason : 'SOCKET_CLOSED';
}

function isRejection(result: AuthorizeResult): result is UpgradeRejection {
  return typeof result === 'object' && result !== null && typeof (result as UpgradeRejection).status === 'number';
}

function refusal(status: number, code: string, error?: unknown, headers?: HeaderFieldsInit, body?: string): UpgradeRefusal {
  return { accepted: false, status, code, error, headers, body };
}

/** The refusal for an error thrown by the RFC checks or the hooks they call. */
function refusalOf(error: unknown): UpgradeRefusal {
  if (error instanceof HandshakeError) return refusal(error.status, error.code, error, error.headers, error.message);
  return refusal(500, 'HOOK_FAILED', error);
}

/**
 * Decides an upgrade request. In order: a handshake already dropped (status 0, its code);
 * shutdown (503 `SHUTTING_DOWN`); the `path` option (400 `PATH_MISMATCH`); the RFC 6455
 * checks with `allowedOrigins` and `handleProtocols` (the `HandshakeError`'s status, or 500
 * `HOOK_FAILED` when a hook threw); then the async phase — the `authorize` hook and the
 * accept key — racing the handshake timeout (`TIMEOUT`), shutdown (`SHUTTING_DOWN`) and
 * whatever the shim's `watch` reports (`SOCKET_CLOSED`), each a drop (status 0); a hook that
 * throws is 500 `HOOK_FAILED`, one that refuses is its status with `REJECTED`; an invalid
 * `handshakeTimeout` is 500 `BAD_OPTIONS`. Never rejects.
 *
 * Without a hook and without a shim's deadline nothing can stall: no timer is started.
 *
 * @example
 * ```ts
 * const decision = await decideUpgrade(subject, options, { timers, signal: shutdown.signal });
 * if (decision.accepted) socket.write(decision.response);
 * else if (decision.status > 0) socket.end(rejectionBytes(decision.status, decision.headers, decision.body));
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
  if (given?.aborted) return refusal(0, dropCode(given));
  if (control.signal?.aborted) return refusal(503, 'SHUTTING_DOWN');
  if (options.path !== undefined && targetPath(subject.target) !== options.path) {
    return refusal(400, 'PATH_MISMATCH', undefined, undefined, 'No WebSocket endpoint at this path');
  }

  const { allowedOrigins, handleProtocols } = options;
  let deflate;
  try {
    deflate = resolveDeflate(options.perMessageDeflate, control.deflateEngine);
  } catch (error) {
    return refusal(500, 'BAD_OPTIONS', error);
  }
  const handshakeOptions: ServerHandshakeOptions = {
    allowedOrigins: typeof allowedOrigins === 'function' ? (origin) => allowedOrigins(origin, subject.request()) : allowedOrigins,
    handleProtocols: handleProtocols === undefined ? undefined : (offered) => handleProtocols(offered, subject.request()),
    // RFC 7692 §5.1: permessage-deflate is the one extension a server accepts.
    negotiateExtensions: deflate === null ? undefined : serverDeflateNegotiator(deflate),
  };
  let negotiated: NegotiatedUpgrade;
  try {
    negotiated = validateUpgradeRequest(subject.head, handshakeOptions);
  } catch (error) {
    return refusalOf(error);
  }
  const respond = (): Promise<string> =>
    buildServerResponse({
      key: negotiated.key,
      protocol: negotiated.protocol,
      extensions: negotiated.extensions,
      headers: options.headers,
      sha1: control.sha1,
    });
  const accept = (response: string): UpgradeDecision<R> => {
    let request: R;
    try {
      request = subject.request();
    } catch (error) {
      return refusal(400, 'MALFORMED_HEAD', error);
    }
    const extensions = negotiated.extensions.length > 0 ? serializeExtensionHeader(negotiated.extensions) : '';
    return { accepted: true, response, negotiated, extensions, request };
  };

  const { authorize } = options;
  if (authorize === undefined && given === undefined) {
    let response: string;
    try {
      response = await respond();
    } catch (error) {
      return refusal(500, 'HOOK_FAILED', error);
    }
    if (control.signal?.aborted) return refusal(503, 'SHUTTING_DOWN');
    if (control.closed?.() === true) return refusal(0, 'SOCKET_CLOSED');
    return accept(response);
  }

  let deadline: HandshakeDeadline<string>;
  if (given !== undefined) deadline = new HandshakeDeadline<string>({ signal: given, abortReason: dropCode });
  else {
    try {
      deadline = HandshakeDeadline.forServer(checkTimeout('handshakeTimeout', options.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT), control.timers, control.signal);
    } catch (error) {
      return refusal(500, 'BAD_OPTIONS', error);
    }
  }
  const unwatch = control.watch?.((code) => deadline.stop(code));
  const work = async (): Promise<{ rejection: UpgradeRejection } | { response: string }> => {
    if (authorize !== undefined) {
      const result = await authorize({ ...subject.describe(), origin: negotiated.origin, protocol: negotiated.protocol, request: subject.request() });
      if (isRejection(result)) return { rejection: result };
    }
    return { response: await respond() };
  };
  let outcome;
  try {
    outcome = await deadline.settle(work());
  } finally {
    unwatch?.();
    deadline.dispose();
  }
  if ('stopped' in outcome) return refusal(0, outcome.stopped);
  if (deadline.stopped || control.closed?.() === true) return refusal(0, deadline.reason ?? 'SOCKET_CLOSED');
  if ('error' in outcome) return refusal(500, 'HOOK_FAILED', outcome.error);
  if ('rejection' in outcome.value) {
    const { status, headers, body } = outcome.value.rejection;
    return refusal(status, 'REJECTED', undefined, headers, body);
  }
  return accept(outcome.value.response);
}
