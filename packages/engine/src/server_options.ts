/**
 * The options of a server, the same on every runtime, and their validation: done once,
 * when the server is made, so that a misspelt option or a bad header value is a
 * `TypeError` naming it at `serve()` rather than a silent default or a 500 on every
 * handshake.
 * @module
 */
import { checkBufferedAmountLimit, checkHeaderField, headerFieldEntries, resolveDeflate, resolveLimits, type DeflateEngine, type WebSocketConnection } from '@wsflow/codec';
import { checkBackplane, type Backplane } from './backplane.ts';
import { checkMaxPendingHandshakes, type PendingHandshakeSettings } from './handshake_slots.ts';
import { checkPublishBackpressure, type PublishBackpressure } from './publish_backpressure.ts';
import type { ServerConnection } from './server_connection.ts';
import { checkTimeout } from './shim_settings.ts';
import { type AuthorizeRequest as CodecAuthorizeRequest, type RejectionInfo as CodecRejectionInfo, type UpgradeOptions as CodecUpgradeOptions } from './upgrade_policy.ts';

/** What the `authorize` hook sees of an upgrade request: its `request` is a WHATWG `Request`. */
export type AuthorizeRequest = CodecAuthorizeRequest<Request>;

/** Why a server refused or dropped an upgrade (`request` is `undefined` when its head could not be read). */
export type RejectionInfo = CodecRejectionInfo<Request | undefined>;

/**
 * Handles each accepted connection. Set handlers or take `readable` synchronously: the
 * connection starts reading when this returns. A throw or a rejected promise closes the
 * connection with 1011 and goes to `onError`; the server carries on.
 */
export type ConnectionHandler = (connection: ServerConnection, request: Request) => unknown;

/** What `fetch` is told besides the request. */
export interface FetchInfo {
  /** The peer's IP address, when known. */
  remoteAddress: string | undefined;
}

/**
 * Answers a plain HTTP request (not a WebSocket upgrade, or an upgrade for another `path`),
 * like a `Deno.serve`/`Bun.serve` handler: one request per socket, its body (sent with
 * `Content-Length`, at most `maxBodySize`) read first, the `Response` buffered and sent
 * with `Content-Length` and `Connection: close`.
 */
export type FetchHandler = (request: Request, info: FetchInfo) => Response | Promise<Response>;

/** Where a user callback failed, as `onError` is told. */
export interface ErrorContext {
  /** Which callback threw: `'handler'`, `'fetch'`, `'onReject'` or `'connection'` (a connection's own callback). */
  source: 'handler' | 'fetch' | 'onReject' | 'connection';
  /**
   * The peer's IP address, when known. It is looked up when the report is made, not at
   * every handshake, so for a callback that runs after the socket closed (an `onclose`)
   * Node may no longer know it.
   */
  remoteAddress: string | undefined;
  /** The connection it concerned, closed with 1011, when there was one. */
  connection?: WebSocketConnection;
}

/**
 * The options of a server on every runtime.
 *
 * @example
 * ```ts
 * const options: ServerOptions = {
 *   path: '/chat',
 *   allowedOrigins: ['https://app.example.com'],
 *   handler: (conn) => { conn.onmessage = (data) => conn.send(data); },
 *   fetch: () => new Response('a WebSocket server\n'),
 *   onError: (error, { remoteAddress }) => log.warn({ error, remoteAddress }),
 * };
 * ```
 */
export interface ServerOptions<R = Request> extends CodecUpgradeOptions<R, R | undefined>, PendingHandshakeSettings {
  /**
   * Called with each accepted connection. Without it, iterate the server. The request is
   * built only for a handler that declares it (a second parameter, or a rest parameter):
   * `(conn) => …` skips the cost of a WHATWG `Request` per connection and gets `undefined`.
   */
  handler?: (connection: ServerConnection, request: R) => unknown;
  /** Answers plain HTTP requests. Default: 426 for a request that is no upgrade, 400 for another path. */
  fetch?: FetchHandler;
  /** The largest request body read for `fetch`, in bytes (413 above). Default 1 MiB. */
  maxBodySize?: number;
  /** The largest request head, in bytes (431 above). Default 16 KiB. */
  maxHeadSize?: number;
  /**
   * Told of every error thrown by user code: the handler, `fetch`, `onReject`, or a
   * connection's own callbacks (`onmessage`, `onclose`, …). The connection concerned is
   * closed with 1011 first; every other connection carries on. Default: report on stderr
   * with the peer's address. A throw from `onError` itself is reported on stderr.
   */
  onError?: (error: unknown, context: ErrorContext) => void;
  /**
   * Joins this server's topics with other instances' (see {@link Backplane}): what is
   * published here reaches their subscribers, and what they publish reaches the
   * subscribers here, once. Messages from the backplane fan out here only. Give each
   * server its own member (`new LocalBackplane().join()` within one process). Closed by
   * `server.close()`. Default: topics are this server's alone.
   */
  backplane?: Backplane;
  /**
   * What publishing does for a subscriber that does not read (its `bufferedAmount` at
   * `limit` or above): `'skip'` the message for it, `'close'` it with 1008, or `'queue'` it
   * anyway (then `maxBufferedAmount` bounds it). Default `{ limit: 16 MiB, policy: 'skip' }`
   * (see `DEFAULT_PUBLISH_BACKPRESSURE`).
   */
  publishBackpressure?: PublishBackpressure;
}

/** The names of {@link ServerOptions}, for the unknown-option check. */
export const SERVER_OPTION_NAMES: readonly string[] = [
  // upgrade policy
  'path', 'handleProtocols', 'allowedOrigins', 'authorize', 'headers', 'onReject',
  // the server
  'handler', 'fetch', 'maxBodySize', 'maxHeadSize', 'onError', 'maxPendingHandshakes',
  // topics
  'backplane', 'publishBackpressure',
  // connections
  'maxPayload', 'maxMessage', 'maxFragments', 'maxBufferedAmount', 'bufferedAmountPolicy',
  'handshakeTimeout', 'closeTimeout', 'heartbeat', 'readableHighWaterMark', 'writableHighWaterMark', 'perMessageDeflate',
];

/** Default largest request body for `fetch`. */
export const DEFAULT_MAX_BODY_SIZE = 1024 * 1024;

/** Default milliseconds of the opening handshake. */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

/** Edit distance, for "did you mean" (options are short: the quadratic table is fine). */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/**
 * Refuses options not in `known`, naming the closest known one.
 * @throws {TypeError} `serve: unknown option "maxPayLoad" (did you mean "maxPayload"?)`
 * @example
 * ```ts
 * checkKnownOptions('serve', { port: 1 }, ['port']);
 * ```
 */
export function checkKnownOptions(where: string, options: object, known: readonly string[]): void {
  for (const name of Object.keys(options)) {
    if (known.includes(name)) continue;
    if ((options as Record<string, unknown>)[name] === undefined) continue;
    let best = '';
    let bestDistance = Infinity;
    for (const candidate of known) {
      const d = distance(name.toLowerCase(), candidate.toLowerCase());
      if (d < bestDistance) [best, bestDistance] = [candidate, d];
    }
    const hint = bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? ` (did you mean "${best}"?)` : '';
    throw new TypeError(`${where}: unknown option "${name}"${hint}`);
  }
}

function checkFunction(where: string, options: Record<string, unknown>, name: string): void {
  const value = options[name];
  if (value !== undefined && typeof value !== 'function') throw new TypeError(`${where}: option "${name}" must be a function`);
}

function checkByteCount(where: string, name: string, value: unknown): void {
  if (value === undefined) return;
  if (!(value === Infinity || (typeof value === 'number' && Number.isInteger(value) && value > 0))) {
    throw new RangeError(`${where}: option "${name}" must be a positive integer, got ${String(value)}`);
  }
}

/** The options a runtime's `serve` has beside the {@link ServerOptions}: where and how to listen. */
export const LISTEN_OPTION_NAMES: readonly string[] = ['port', 'host', 'tls', 'reusePort'];

/**
 * Checks the options of a runtime's `serve`: the {@link ServerOptions} and the listen
 * options ({@link LISTEN_OPTION_NAMES}), whose runtime-independent shape is checked here
 * (`reusePort` a boolean); each runtime checks only what it alone can (its version, its OS).
 * @throws TypeError naming an unknown or invalid option; RangeError for an out-of-range one
 * @example
 * ```ts
 * const checked = checkServeOptions(options, adapter.deflateEngine);
 * ```
 */
export function checkServeOptions<O extends object>(given: O, deflateEngine?: DeflateEngine): O {
  const checked = checkServerOptions('serve', given, LISTEN_OPTION_NAMES, deflateEngine);
  const reusePort = (checked as { reusePort?: unknown }).reusePort;
  if (reusePort !== undefined && typeof reusePort !== 'boolean') throw new TypeError('serve: option "reusePort" must be a boolean');
  return checked;
}

/**
 * Validates server options once (with the shim's own `extra` option names, such as `port`,
 * `host`, `tls`): unknown names, types of the hooks, header values (no CR/LF, valid
 * names), `path`, `allowedOrigins`, the limits, the timeouts and `perMessageDeflate`.
 * Returns a copy the server keeps. `without` names shared options this server does not
 * take (Node's `attach` leaves plain HTTP to its host server: no `fetch`).
 *
 * @throws {TypeError} naming the option, for an unknown option, a hook that is not a
 *   function, an invalid header, a `path` not starting with `/`, an invalid `allowedOrigins`
 * @throws {RangeError} naming the option, for an out-of-range number
 * @example
 * ```ts
 * const checked = checkServerOptions('serve', options, ['port', 'host', 'tls'], zlibEngine);
 * ```
 */
export function checkServerOptions<O extends object>(where: string, given: O, extra: readonly string[], deflateEngine?: DeflateEngine, without: readonly string[] = []): O {
  if (typeof given !== 'object' || given === null) throw new TypeError(`${where}: options must be an object`);
  // Generic in the runtime's request type: only the shape of the options is checked here.
  const options = given as unknown as ServerOptions<unknown>;
  checkKnownOptions(where, options, [...SERVER_OPTION_NAMES.filter((name) => !without.includes(name)), ...extra]);
  const record = options as unknown as Record<string, unknown>;
  for (const name of ['handler', 'fetch', 'authorize', 'handleProtocols', 'onReject', 'onError']) checkFunction(where, record, name);
  if (options.path !== undefined && (typeof options.path !== 'string' || !options.path.startsWith('/'))) {
    throw new TypeError(`${where}: option "path" must be a string starting with "/"`);
  }
  const origins = options.allowedOrigins;
  if (origins !== undefined && typeof origins !== 'function' && !(Array.isArray(origins) && origins.every((o) => typeof o === 'string'))) {
    throw new TypeError(`${where}: option "allowedOrigins" must be a list of origins or a function`);
  }
  if (options.headers !== undefined) {
    try {
      for (const [name, value] of headerFieldEntries(options.headers)) checkHeaderField(name, value);
    } catch (error) {
      throw new TypeError(`${where}: option "headers": ${(error as Error).message}`);
    }
  }
  const prefixed = (check: () => void): void => {
    try {
      check();
    } catch (error) {
      if (error instanceof RangeError) throw new RangeError(`${where}: ${error.message}`);
      if (error instanceof TypeError) throw new TypeError(`${where}: ${error.message}`);
      throw error;
    }
  };
  prefixed(() => resolveLimits(options));
  prefixed(() => checkTimeout('handshakeTimeout', options.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT));
  prefixed(() => checkTimeout('closeTimeout', options.closeTimeout, 5000));
  prefixed(() => checkMaxPendingHandshakes(options.maxPendingHandshakes));
  prefixed(() => checkBufferedAmountLimit(options));
  prefixed(() => resolveDeflate(options.perMessageDeflate, deflateEngine));
  prefixed(() => checkPublishBackpressure(options.publishBackpressure));
  prefixed(() => checkBackplane(options.backplane));
  checkByteCount(where, 'maxBodySize', options.maxBodySize);
  checkByteCount(where, 'maxHeadSize', options.maxHeadSize);
  checkByteCount(where, 'readableHighWaterMark', options.readableHighWaterMark);
  checkByteCount(where, 'writableHighWaterMark', options.writableHighWaterMark);
  return { ...given };
}
