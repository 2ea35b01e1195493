/**
 * The server side of the opening handshake on a socket Node handed over in its `upgrade`
 * event: RFC 6455 checks (in the codec), the async authorization hook under the handshake
 * timeout, then the 101 response, or a rejection response and the socket's end.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import {
  HandshakeError,
  buildRejection,
  buildServerResponse,
  validateUpgradeRequest,
  type HeaderFieldsInit,
  type NegotiatedUpgrade,
  type ServerHandshakeOptions,
  type UpgradeRequest,
} from '@wsflow/codec';
import { checkTimeout, connectionOptions, DEFAULT_HANDSHAKE_TIMEOUT } from './connection_settings.ts';
import { parseCookies } from '@wsflow/codec';
import { bindSocket, type PendingConnection } from './socket_connection.ts';
import { createHash } from 'node:crypto';

/** SHA-1 for the accept key without Web Crypto's trip through the thread pool. */
const nodeSha1 = (data: Uint8Array): Uint8Array => createHash('sha1').update(data).digest();
import type { AuthorizeRequest, AuthorizeResult, UpgradeOptions, UpgradeRejection } from './upgrade_options.ts';

/** Milliseconds a refused socket may linger, half-closed, before it is destroyed. */
const REJECTION_LINGER = 2000;

const noop = (): void => {};

/** The request's pathname, without the query. */
export function requestPath(request: IncomingMessage): string {
  const target = request.url ?? '/';
  try {
    return new URL(target, 'ws://localhost').pathname;
  } catch {
    return target.split('?')[0];
  }
}

/** Node's request as the codec's {@link UpgradeRequest}; repeated fields stay repeated (joined). */
function adaptRequest(request: IncomingMessage): UpgradeRequest {
  const distinct = request.headersDistinct;
  return {
    method: request.method ?? '',
    version: `HTTP/${request.httpVersion}`,
    headers: { get: (name) => distinct[name]?.join(', ') },
  };
}

function headersOf(request: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i], raw[i + 1]);
    } catch {
      /* a field WHATWG Headers refuses: left out */
    }
  }
  return headers;
}

function urlOf(request: IncomingMessage, secure: boolean): URL {
  const scheme = secure ? 'wss' : 'ws';
  try {
    return new URL(request.url ?? '/', `${scheme}://${request.headers.host ?? 'localhost'}`);
  } catch {
    return new URL(request.url ?? '/', `${scheme}://localhost`);
  }
}

function isRejection(result: AuthorizeResult): result is UpgradeRejection {
  return typeof result === 'object' && result !== null && typeof (result as UpgradeRejection).status === 'number';
}

/**
 * Answers a refused handshake with an HTTP error response and ends the socket; what the
 * client still sends is discarded, and the socket is destroyed if the client lingers.
 */
export function rejectSocket(socket: Duplex, status: number, headers?: HeaderFieldsInit, body?: string): void {
  socket.on('error', noop);
  if (socket.destroyed) return;
  let response: string;
  try {
    response = buildRejection(status, headers, body);
  } catch {
    response = buildRejection(500);
  }
  socket.end(new TextEncoder().encode(response));
  socket.resume();
  setTimeout(() => socket.destroy(), REJECTION_LINGER).unref();
}

/** Extra controls of {@link upgradeSocket}, for servers that track their handshakes. */
export interface UpgradeControl {
  /** Aborting drops the socket if its handshake is still under way. */
  signal?: AbortSignal;
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
  const refuse = (status: number, code: string, error?: unknown, headers?: HeaderFieldsInit, body?: string): null => {
    if (status > 0) rejectSocket(socket, status, headers, body);
    else {
      socket.on('error', noop);
      socket.destroy();
    }
    options.onReject?.({ status, code, error, request });
    return null;
  };
  // Errors before the connection owns the socket (a reset mid-handshake) must not crash the process.
  let socketError: Error | undefined;
  const onError = (error: Error): void => {
    socketError ??= error;
  };
  socket.on('error', onError);

  if (control.signal?.aborted) return refuse(503, 'SHUTTING_DOWN');
  if (options.path !== undefined && requestPath(request) !== options.path) {
    return refuse(400, 'PATH_MISMATCH', undefined, undefined, 'No WebSocket endpoint at this path');
  }

  const { allowedOrigins, handleProtocols } = options;
  const handshakeOptions: ServerHandshakeOptions = {
    allowedOrigins: typeof allowedOrigins === 'function' ? (origin) => allowedOrigins(origin, request) : allowedOrigins,
    handleProtocols: handleProtocols === undefined ? undefined : (offered) => handleProtocols(offered, request),
  };
  let negotiated: NegotiatedUpgrade;
  try {
    negotiated = validateUpgradeRequest(adaptRequest(request), handshakeOptions);
  } catch (error) {
    if (error instanceof HandshakeError) return refuse(error.status, error.code, error, error.headers, error.message);
    return refuse(500, 'HOOK_FAILED', error);
  }

  if (options.authorize === undefined) {
    // No hook: nothing can stall, so no timer or listeners; only the accept key to compute.
    let response: string;
    try {
      response = await buildServerResponse({ key: negotiated.key, protocol: negotiated.protocol, headers: options.headers, sha1: nodeSha1 });
    } catch (error) {
      return refuse(500, 'HOOK_FAILED', error);
    }
    if (control.signal?.aborted) return refuse(503, 'SHUTTING_DOWN');
    if (socket.destroyed) return refuse(0, 'SOCKET_CLOSED', socketError);
    return accept(response);
  }

  const secure = (socket as Partial<TLSSocket>).encrypted === true;
  let timeout: number;
  try {
    timeout = checkTimeout('handshakeTimeout', options.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT);
  } catch (error) {
    return refuse(500, 'BAD_OPTIONS', error);
  }
  // The async phase (hook, accept key) races the timeout, shutdown and the peer leaving.
  let dropped: string | null = null;
  let onDropped!: (code: string) => void;
  const droppedPromise = new Promise<{ dropped: string }>((resolve) => {
    onDropped = (code) => resolve({ dropped: code });
  });
  const drop = (code: string): void => {
    if (dropped !== null) return;
    dropped = code;
    socket.destroy();
    onDropped(code);
  };
  const timer = setTimeout(() => drop('TIMEOUT'), timeout);
  timer.unref();
  const onAbort = (): void => drop('SHUTTING_DOWN');
  control.signal?.addEventListener('abort', onAbort, { once: true });
  const onClose = (): void => drop('SOCKET_CLOSED');
  socket.once('close', onClose);

  const work = (async (): Promise<{ rejection: UpgradeRejection } | { response: string }> => {
    if (options.authorize !== undefined) {
      const result = await options.authorize(authorizeRequestOf(request, socket, negotiated, secure));
      if (isRejection(result)) return { rejection: result };
    }
    return { response: await buildServerResponse({ key: negotiated.key, protocol: negotiated.protocol, headers: options.headers, sha1: nodeSha1 }) };
  })();
  let outcome: { rejection: UpgradeRejection } | { response: string } | { dropped: string } | { error: unknown };
  try {
    outcome = await Promise.race([work.catch((error: unknown) => ({ error })), droppedPromise]);
  } finally {
    clearTimeout(timer);
    control.signal?.removeEventListener('abort', onAbort);
    socket.off('close', onClose);
  }
  if ('dropped' in outcome) return refuse(0, outcome.dropped, socketError);
  if (dropped !== null || socket.destroyed) return refuse(0, dropped ?? 'SOCKET_CLOSED', socketError);
  if ('error' in outcome) return refuse(500, 'HOOK_FAILED', outcome.error);
  if ('rejection' in outcome) return refuse(outcome.rejection.status, 'REJECTED', undefined, outcome.rejection.headers, outcome.rejection.body);
  return accept(outcome.response);

  function accept(response: string): PendingConnection {
    socket.write(response, 'latin1');
    const pending = bindSocket(socket, connectionOptions(options, 'server', negotiated.protocol), head);
    socket.off('error', onError);
    return pending;
  }
}

function authorizeRequestOf(request: IncomingMessage, socket: Duplex, negotiated: NegotiatedUpgrade, secure: boolean): AuthorizeRequest {
  return {
    url: urlOf(request, secure),
    headers: headersOf(request),
    cookies: parseCookies(request.headersDistinct.cookie),
    remoteAddress: (socket as { remoteAddress?: string }).remoteAddress ?? request.socket?.remoteAddress,
    origin: negotiated.origin,
    protocol: negotiated.protocol,
    request,
  };
}
