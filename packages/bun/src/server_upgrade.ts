/**
 * The server side of the opening handshake on a socket `Bun.listen` accepted: the request
 * head read with the codec's parser, then, for a WebSocket upgrade, the codec's
 * `decideUpgrade` (path, RFC 6455 checks, the async authorization hook), all under one
 * handshake deadline; then the 101 response, or a rejection and the socket's end, or, for
 * plain HTTP, the `fetch` fallback or 426.
 * @module
 */
import {
  HandshakeDeadline,
  HandshakeError,
  UPGRADE_REQUIRED,
  decideUpgrade,
  dropCode,
  fieldValues,
  isWebSocketUpgrade,
  parseCookies,
  type HeaderFieldsInit,
  type RequestHead,
} from '@wsflow/codec';
import { bunTimers } from './bun_timers.ts';
import { checkTimeout, connectionOptions, DEFAULT_HANDSHAKE_TIMEOUT, defaultDeflateEngine } from './connection_settings.ts';
import { HeadReader } from './head_reader.ts';
import { answerHttp, DEFAULT_MAX_BODY_SIZE, type FetchHandler } from './http_fallback.ts';
import { bindConnection, type PendingConnection } from './pending_connection.ts';
import { rejectSocket } from './rejection.ts';
import { requestOf, urlOf } from './request_of.ts';
import type { BunSocketTransport } from './socket_transport.ts';
import type { UpgradeOptions } from './upgrade_options.ts';

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
  /**
   * Aborting, with a code as its reason (`'EVICTED'`), drops the socket if its handshake is
   * still under way, reported to `onReject` with that code.
   */
  drop?: AbortSignal;
}

/** A connection whose handshake succeeded, not reading yet, and its request. */
export interface UpgradedSocket extends PendingConnection {
  request: Request;
}

const encoder = new TextEncoder();

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
  const deadline = HandshakeDeadline.forServer(timeout, bunTimers, context.signal);
  const drop = context.drop;
  const onDrop = (): void => deadline.stop(dropCode(drop!));
  if (drop?.aborted) onDrop();
  else drop?.addEventListener('abort', onDrop, { once: true });
  try {
    const reader = new HeadReader(transport, 'request', { maxHeadSize: options.maxHeadSize });
    const read = await deadline.settle(reader.head);
    if ('stopped' in read) return refuse(0, read.stopped);
    if ('error' in read) {
      const error = read.error;
      if (error instanceof HandshakeError) return refuse(error.status, error.code, error, error.headers, error.message);
      return refuse(0, 'SOCKET_CLOSED', error);
    }
    head = read.value.head;
    const requestHead = head;

    // Not a WebSocket request at all: plain HTTP.
    if (!isWebSocketUpgrade(requestHead)) {
      if (options.fetch === undefined) {
        return refuse(UPGRADE_REQUIRED.status, 'UPGRADE_REQUIRED', undefined, UPGRADE_REQUIRED.headers, UPGRADE_REQUIRED.body);
      }
      const served = answerHttp(transport, reader, requestHead, {
        fetch: options.fetch,
        maxBodySize: options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE,
        secure: context.secure,
        authority: context.authority,
      });
      if ('stopped' in (await deadline.settle(served))) transport.destroy();
      return null;
    }

    const decision = await decideUpgrade(
      {
        head: requestHead,
        target: requestHead.target,
        request: () => requestFor(requestHead),
        describe: () => ({
          url: urlOf(requestHead, context.secure ? 'wss' : 'ws', context.authority),
          headers: requestFor(requestHead).headers,
          cookies: parseCookies(fieldValues(requestHead.rawHeaders, 'cookie')),
          remoteAddress: transport.remoteAddress,
        }),
      },
      options,
      {
        timers: bunTimers,
        deadline: deadline.signal,
        deflateEngine: defaultDeflateEngine,
        watch: (drop) => void reader.gone.then(() => drop('SOCKET_CLOSED')),
        closed: () => transport.closed,
      },
    );
    if (!decision.accepted) return refuse(decision.status, decision.code, decision.error, decision.headers, decision.body);
    transport.write(encoder.encode(decision.response));
    const pending = bindConnection(transport, connectionOptions(options, 'server', decision.negotiated.protocol, decision.extensions), reader);
    return { connection: pending.connection, start: pending.start, request: decision.request };
  } finally {
    drop?.removeEventListener('abort', onDrop);
    deadline.dispose();
  }
}
