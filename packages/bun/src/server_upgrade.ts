/**
 * The server side of the opening handshake on a socket `Bun.listen` accepted: the request
 * head read with the codec's parser, the RFC 6455 checks (in the codec), the async
 * authorization hook, all under the handshake timeout; then the 101 response, or a
 * rejection and the socket's end, or, for plain HTTP, the `fetch` fallback or 426.
 * @module
 */
import {
  HandshakeError,
  WEBSOCKET_VERSION,
  buildServerResponse,
  listContainsToken,
  parseCookies,
  validateUpgradeRequest,
  type HeaderFieldsInit,
  type NegotiatedUpgrade,
  type RequestHead,
  type ServerHandshakeOptions,
} from '@wsflow/codec';
import { unrefTimeout } from './bun_timers.ts';
import { checkTimeout, connectionOptions, DEFAULT_HANDSHAKE_TIMEOUT } from './connection_settings.ts';
import { HeadReader } from './head_reader.ts';
import { answerHttp, DEFAULT_MAX_BODY_SIZE, type FetchHandler } from './http_fallback.ts';
import { bindConnection, type PendingConnection } from './pending_connection.ts';
import { rejectSocket } from './rejection.ts';
import { requestOf, urlOf } from './request_of.ts';
import type { BunSocketTransport } from './socket_transport.ts';
import type { AuthorizeRequest, AuthorizeResult, UpgradeOptions, UpgradeRejection } from './upgrade_options.ts';

/** Options of {@link upgradeSocket}: the upgrade's, plus the plain HTTP fallback. */
export interface ServerUpgradeOptions extends UpgradeOptions {
  /** Answers plain HTTP requests; without it they get 426 Upgrade Required. */
  fetch?: FetchHandler;
  /** The largest request body the `fetch` fallback reads. Default 1 MiB. */
  maxBodySize?: number;
}

/** What the listener tells {@link upgradeSocket} about itself. */
export interface UpgradeContext {
  /** Whether the listener speaks TLS. */
  secure: boolean;
  /** `host:port` of the listener, for requests without a usable `Host`. */
  authority: string;
  /** Aborting drops the socket if its handshake is still under way. */
  signal?: AbortSignal;
}

/** A connection whose handshake succeeded, not reading yet, and its request. */
export interface UpgradedSocket extends PendingConnection {
  request: Request;
}

const encoder = new TextEncoder();

function isRejection(result: AuthorizeResult): result is UpgradeRejection {
  return typeof result === 'object' && result !== null && typeof (result as UpgradeRejection).status === 'number';
}

/** The request's pathname, without the query. */
function pathOf(head: RequestHead): string {
  try {
    return new URL(head.target, 'ws://localhost').pathname;
  } catch {
    return head.target.split('?')[0];
  }
}

/**
 * Runs the server side of the opening handshake on a freshly accepted socket. Resolves
 * with the connection (not reading yet) and its request, or `null` once the request was
 * refused (answered and ended), answered by the `fetch` fallback, or the socket dropped.
 * Never rejects.
 *
 * @example
 * ```ts
 * const upgraded = await upgradeSocket(transport, { handleProtocols: (p) => p[0] }, { secure: false, authority: '127.0.0.1:8080' });
 * if (upgraded !== null) {
 *   upgraded.connection.onmessage = (data) => upgraded.connection.send(data);
 *   upgraded.start();
 * }
 * ```
 */
export async function upgradeSocket(transport: BunSocketTransport, options: ServerUpgradeOptions, context: UpgradeContext): Promise<UpgradedSocket | null> {
  let request: Request | undefined;
  let head: RequestHead | undefined;
  const requestFor = (h: RequestHead): Request => (request ??= requestOf(h, context.secure, context.authority));
  const safeRequest = (): Request | undefined => {
    try {
      return head === undefined ? undefined : requestFor(head);
    } catch {
      return undefined;
    }
  };
  const refuse = (status: number, code: string, error?: unknown, headers?: HeaderFieldsInit, body?: string): null => {
    if (status > 0) rejectSocket(transport, status, headers, body);
    else transport.destroy();
    options.onReject?.({ status, code, error, request: safeRequest() });
    return null;
  };

  let timeout: number;
  try {
    timeout = checkTimeout('handshakeTimeout', options.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT);
  } catch (error) {
    return refuse(500, 'BAD_OPTIONS', error);
  }
  if (context.signal?.aborted) return refuse(503, 'SHUTTING_DOWN');

  // Everything up to the 101 races the timeout and shutdown.
  let onDropped!: (code: string) => void;
  const dropped = new Promise<{ dropped: string }>((resolve) => (onDropped = (code) => resolve({ dropped: code })));
  const cancelTimer = unrefTimeout(() => onDropped('TIMEOUT'), timeout);
  const onAbort = (): void => onDropped('SHUTTING_DOWN');
  context.signal?.addEventListener('abort', onAbort, { once: true });
  const cleanup = (): void => {
    cancelTimer();
    context.signal?.removeEventListener('abort', onAbort);
  };

  try {
    const reader = new HeadReader(transport, 'request', { maxHeadSize: options.maxHeadSize });
    const read = await Promise.race([reader.head.then((value) => ({ value }), (error: unknown) => ({ error })), dropped]);
    if ('dropped' in read) return refuse(0, read.dropped);
    if ('error' in read) {
      const error = read.error;
      if (error instanceof HandshakeError) return refuse(error.status, error.code, error, error.headers, error.message);
      return refuse(0, 'SOCKET_CLOSED', error);
    }
    head = read.value.head;
    const requestHead = head;

    // Not a WebSocket request at all: plain HTTP.
    if (!listContainsToken(requestHead.headers.get('upgrade') ?? '', 'websocket')) {
      if (options.fetch === undefined) {
        return refuse(426, 'UPGRADE_REQUIRED', undefined, { Upgrade: 'websocket', 'Sec-WebSocket-Version': WEBSOCKET_VERSION }, 'This server speaks WebSocket only\n');
      }
      const served = answerHttp(transport, reader, requestHead, {
        fetch: options.fetch,
        maxBodySize: options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE,
        secure: context.secure,
        authority: context.authority,
      });
      const outcome = await Promise.race([served.then(() => null), dropped]);
      if (outcome !== null) transport.destroy();
      return null;
    }

    if (options.path !== undefined && pathOf(requestHead) !== options.path) {
      return refuse(400, 'PATH_MISMATCH', undefined, undefined, 'No WebSocket endpoint at this path');
    }

    const { allowedOrigins, handleProtocols } = options;
    const handshakeOptions: ServerHandshakeOptions = {
      allowedOrigins: typeof allowedOrigins === 'function' ? (origin) => allowedOrigins(origin, requestFor(requestHead)) : allowedOrigins,
      handleProtocols: handleProtocols === undefined ? undefined : (offered) => handleProtocols(offered, requestFor(requestHead)),
    };
    let negotiated: NegotiatedUpgrade;
    try {
      negotiated = validateUpgradeRequest(requestHead, handshakeOptions);
    } catch (error) {
      if (error instanceof HandshakeError) return refuse(error.status, error.code, error, error.headers, error.message);
      return refuse(500, 'HOOK_FAILED', error);
    }

    const work = (async (): Promise<{ rejection: UpgradeRejection } | { response: string }> => {
      if (options.authorize !== undefined) {
        const result = await options.authorize(authorizeRequestOf(requestHead, requestFor(requestHead), transport, negotiated, context));
        if (isRejection(result)) return { rejection: result };
      }
      return { response: await buildServerResponse({ key: negotiated.key, protocol: negotiated.protocol, headers: options.headers }) };
    })();
    const gone = reader.gone.then(() => ({ dropped: 'SOCKET_CLOSED' }));
    const outcome = await Promise.race([work.catch((error: unknown) => ({ error })), dropped, gone]);
    if ('dropped' in outcome) return refuse(0, outcome.dropped);
    if (transport.closed) return refuse(0, 'SOCKET_CLOSED');
    if ('error' in outcome) return refuse(500, 'HOOK_FAILED', outcome.error);
    if ('rejection' in outcome) return refuse(outcome.rejection.status, 'REJECTED', undefined, outcome.rejection.headers, outcome.rejection.body);

    let upgradeRequest: Request;
    try {
      upgradeRequest = requestFor(requestHead);
    } catch (error) {
      return refuse(400, 'MALFORMED_HEAD', error);
    }
    transport.write(encoder.encode(outcome.response));
    const pending = bindConnection(transport, connectionOptions(options, 'server', negotiated.protocol), reader);
    return { connection: pending.connection, start: pending.start, request: upgradeRequest };
  } finally {
    cleanup();
  }
}

function authorizeRequestOf(
  head: RequestHead,
  request: Request,
  transport: BunSocketTransport,
  negotiated: NegotiatedUpgrade,
  context: UpgradeContext,
): AuthorizeRequest {
  return {
    url: urlOf(head, context.secure ? 'wss' : 'ws', context.authority),
    headers: request.headers,
    cookies: parseCookies(head.rawHeaders.filter(([name]) => name.toLowerCase() === 'cookie').map(([, value]) => value)),
    remoteAddress: transport.remoteAddress,
    origin: negotiated.origin,
    protocol: negotiated.protocol,
    request,
  };
}
