/**
 * The server side of the opening handshake on a socket Node handed over in its `upgrade`
 * event. The decision (path, RFC 6455 checks, the async authorization hook under the
 * handshake timeout, the 101) is the codec's `decideUpgrade`; this module adapts Node's
 * request to it and carries the answer out on the socket.
 * @module
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { requestUrl, type ErrorContext } from '@wsflow/engine';
import { ServerHandshake, headersOf, type HandshakeError, type HeaderFieldsInit, type WebSocketConnection } from '@wsflow/codec';
import { decideUpgrade, parseCookies, targetPath, type UpgradeRefusal, type UpgradeSubject } from '@wsflow/engine';
import { connectionOptions, defaultDeflateEngine } from './connection_settings.ts';
import { nodeTimers } from './node_timers.ts';
import { headOfRequest } from './request_head.ts';
import { bindSocket, type PendingConnection } from './socket_connection.ts';
import type { UpgradeOptions } from './upgrade_options.ts';

/** SHA-1 for the accept key, native. */
const nodeSha1 = (data: Uint8Array): Uint8Array => createHash('sha1').update(data).digest();

/** Milliseconds a refused socket may linger, half-closed, before it is destroyed. */
const REJECTION_LINGER = 2000;

const noop = (): void => {};

/** The request's pathname, without the query. */
export function requestPath(request: IncomingMessage): string {
  return targetPath(request.url ?? '/');
}

/** Node's raw header list (`[name, value, name, value, …]`) as field lines. */
function* fieldLines(raw: readonly string[]): Generator<[string, string]> {
  for (let i = 0; i + 1 < raw.length; i += 2) yield [raw[i], raw[i + 1]];
}

/** The listener's own `host:port`, for a request without `Host`. */
function authorityOf(socket: Duplex): string {
  const local = socket as { localAddress?: string; localPort?: number };
  const address = local.localAddress ?? 'localhost';
  return `${address.includes(':') ? `[${address}]` : address}:${local.localPort ?? 0}`;
}

/** Node's request as the codec sees it; repeated fields stay repeated (joined). */
function subjectOf(request: IncomingMessage, socket: Duplex, url: URL): UpgradeSubject<IncomingMessage> {
  const distinct = request.headersDistinct;
  return {
    head: { method: request.method ?? '', version: `HTTP/${request.httpVersion}`, headers: { get: (name) => distinct[name]?.join(', ') } },
    target: request.url ?? '/',
    request: () => request,
    describe: () => ({
      url,
      headers: headersOf(fieldLines(request.rawHeaders)),
      cookies: parseCookies(distinct.cookie),
      remoteAddress: (socket as { remoteAddress?: string }).remoteAddress ?? request.socket?.remoteAddress,
    }),
  };
}

/**
 * Answers a refused handshake with an HTTP error response and ends the socket; what the
 * client still sends is discarded, and the socket is destroyed if the client lingers.
 */
export function rejectSocket(socket: Duplex, status: number, headers?: HeaderFieldsInit, body?: string): void {
  answerSocket(socket, ServerHandshake.refuse(status, 'REJECTED', { headers, body }).response);
}

function answerSocket(socket: Duplex, response: Uint8Array): void {
  socket.on('error', noop);
  if (socket.destroyed) return;
  socket.end(response);
  socket.resume();
  setTimeout(() => socket.destroy(), REJECTION_LINGER).unref();
}

/** Extra controls of {@link upgradeSocket}, for servers that track their handshakes. */
export interface UpgradeControl {
  /** Aborting drops the socket if its handshake is still under way. */
  signal?: AbortSignal;
  /** Where errors of user code go (`onError`): a throwing `onReject`, a connection's callbacks. */
  report?: (error: unknown, context: ErrorContext) => void;
  /** Passed to the connection: told when one of its callbacks throws. */
  onCallbackError?: (error: unknown, connection: WebSocketConnection) => void;
}

/**
 * Runs the server side of the opening handshake on a socket from Node's `upgrade` event.
 * Resolves with the connection, not reading yet, or `null` once the request was refused
 * (answered and ended) or the socket dropped. Never rejects.
 */
export async function upgradeSocket(
  request: IncomingMessage,
  socket: Duplex,
  head: Uint8Array,
  options: UpgradeOptions,
  control: UpgradeControl = {},
): Promise<PendingConnection | null> {
  // Errors before the connection owns the socket (a reset mid-handshake) must not crash the process.
  let socketError: Error | undefined;
  const onError = (error: Error): void => {
    socketError ??= error;
  };
  socket.on('error', onError);

  let url: URL;
  try {
    url = requestUrl(headOfRequest(request), (socket as Partial<TLSSocket>).encrypted === true ? 'wss' : 'ws', authorityOf(socket));
  } catch (error) {
    const e = error as HandshakeError;
    return refuse(ServerHandshake.refuse(e.status, e.code, { body: e.message, error: e }));
  }
  const decision = await decideUpgrade(subjectOf(request, socket, url), options, {
    timers: nodeTimers,
    signal: control.signal,
    handshake: new ServerHandshake({ sha1: nodeSha1 }),
    deflateEngine: defaultDeflateEngine,
    watch: (drop) => {
      const onClose = (): void => drop('SOCKET_CLOSED');
      socket.once('close', onClose);
      return () => socket.off('close', onClose);
    },
    // Ended counts as gone: node:http may still emit `upgrade` for a request pipelined after
    // one it answered with `Connection: close` (e.g. a 400 for a missing Host).
    closed: () => socket.destroyed || socket.writableEnded,
  });
  if (decision.kind === 'refuse') return refuse(decision);

  const accepted = decision.decision;
  socket.write(accepted.response);
  const connectionSettings = connectionOptions(options, 'server', accepted.protocol, accepted.extensionHeader);
  if (control.onCallbackError !== undefined) connectionSettings.onCallbackError = control.onCallbackError;
  const pending = bindSocket(socket, connectionSettings, head);
  socket.off('error', onError);
  return pending;

  function refuse(refusal: UpgradeRefusal): null {
    const { status, code, error } = refusal;
    if (status > 0) answerSocket(socket, refusal.response);
    else {
      socket.on('error', noop);
      socket.destroy();
    }
    try {
      options.onReject?.({ status, code, error: error ?? (status === 0 ? socketError : undefined), request });
    } catch (failure) {
      (control.report ?? console.error)(failure, { source: 'onReject', remoteAddress: request.socket?.remoteAddress });
    }
    return null;
  }
}
