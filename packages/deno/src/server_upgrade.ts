/**
 * The server side of the opening handshake on a conn whose request head was read: RFC 6455
 * checks (in the codec), the async authorization hook, then the 101 response, or a
 * rejection response and the conn's end.
 * @module
 */
import {
  HandshakeError,
  buildServerResponse,
  parseCookies,
  validateUpgradeRequest,
  type HeaderFieldsInit,
  type NegotiatedUpgrade,
  type RequestHead,
} from '@wsflow/codec';
import { bindConn, type PendingConnection } from './conn_connection.ts';
import { connectionOptions } from './connection_settings.ts';
import { rejectConn } from './http_answer.ts';
import { headersOfHead, urlOfHead } from './request_of.ts';
import type { AuthorizeResult, UpgradeOptions, UpgradeRejection } from './upgrade_options.ts';

/** Where an upgrade happens, and how it is called off. */
export interface UpgradeContext {
  /** Whether the conn is TLS (`wss:`). */
  secure: boolean;
  /** The peer's address. */
  remoteAddr: Deno.Addr;
  /**
   * Aborted when the handshake must be dropped (timeout, shutdown); its `reason` is the
   * {@link RejectionInfo} code. Whoever aborts it also closes the conn.
   */
  signal: AbortSignal;
}

/** An accepted upgrade: the connection (not reading yet) and its request. */
export interface AcceptedUpgradeConn {
  pending: PendingConnection;
  request: Request;
}

function isRejection(result: AuthorizeResult): result is UpgradeRejection {
  return typeof result === 'object' && result !== null && typeof (result as UpgradeRejection).status === 'number';
}

/** The code a dropped handshake is reported with: the signal's reason when it is one. */
export function dropCode(signal: AbortSignal): string {
  return typeof signal.reason === 'string' ? signal.reason : 'SOCKET_CLOSED';
}

/** Resolves with `promise`'s outcome, or with `dropped` once `signal` aborts. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<{ value: T } | { error: unknown } | { dropped: true }> {
  if (signal.aborted) return Promise.resolve({ dropped: true });
  return new Promise((resolve) => {
    const onAbort = (): void => resolve({ dropped: true });
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => resolve({ value }),
      (error: unknown) => resolve({ error }),
    ).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Runs the server side of the opening handshake for a request head read off `conn`.
 * `rest` (bytes after the head) is fed to the connection first. Resolves with the
 * connection, not reading yet, or `null` once the request was refused (answered and
 * closed) or dropped. Never rejects.
 *
 * @param request the head as a WHATWG `Request`, for the hooks
 * @example
 * ```ts
 * const accepted = await upgradeConn(conn, head, rest, request, { handleProtocols: (p) => p[0] }, context);
 * if (accepted !== null) {
 *   accepted.pending.connection.onmessage = (data) => accepted.pending.connection.send(data);
 *   accepted.pending.start();
 * }
 * ```
 */
export async function upgradeConn(
  conn: Deno.Conn,
  head: RequestHead,
  rest: Uint8Array,
  request: Request,
  options: UpgradeOptions,
  context: UpgradeContext,
): Promise<AcceptedUpgradeConn | null> {
  const refuse = (status: number, code: string, error?: unknown, headers?: HeaderFieldsInit, body?: string): null => {
    if (status > 0) void rejectConn(conn, status, headers, body);
    else {
      try {
        conn.close();
      } catch {
        /* closed already */
      }
    }
    options.onReject?.({ status, code, error, request });
    return null;
  };

  const { allowedOrigins, handleProtocols } = options;
  let negotiated: NegotiatedUpgrade;
  try {
    negotiated = validateUpgradeRequest(head, {
      allowedOrigins: typeof allowedOrigins === 'function' ? (origin) => allowedOrigins(origin, request) : allowedOrigins,
      handleProtocols: handleProtocols === undefined ? undefined : (offered) => handleProtocols(offered, request),
    });
  } catch (error) {
    if (error instanceof HandshakeError) return refuse(error.status, error.code, error, error.headers, error.message);
    return refuse(500, 'HOOK_FAILED', error);
  }

  // The async phase (hook, accept key) races the deadline and shutdown.
  const work = (async (): Promise<{ rejection: UpgradeRejection } | { response: string }> => {
    if (options.authorize !== undefined) {
      const remote = context.remoteAddr;
      const result = await options.authorize({
        url: urlOfHead(head, context.secure ? 'wss:' : 'ws:'),
        headers: headersOfHead(head),
        cookies: parseCookies(head.headers.get('cookie')),
        remoteAddress: remote.transport === 'tcp' || remote.transport === 'udp' ? remote.hostname : undefined,
        origin: negotiated.origin,
        protocol: negotiated.protocol,
        request,
      });
      if (isRejection(result)) return { rejection: result };
    }
    return { response: await buildServerResponse({ key: negotiated.key, protocol: negotiated.protocol, headers: options.headers }) };
  })();
  const outcome = await raceAbort(work, context.signal);
  if ('dropped' in outcome || context.signal.aborted) return refuse(0, dropCode(context.signal));
  if ('error' in outcome) return refuse(500, 'HOOK_FAILED', outcome.error);
  if ('rejection' in outcome.value) {
    const { status, headers, body } = outcome.value.rejection;
    return refuse(status, 'REJECTED', undefined, headers, body);
  }

  // The 101 is the transport's first write: whatever the handler sends queues behind it.
  const preface = new TextEncoder().encode(outcome.value.response);
  return { pending: bindConn(conn, connectionOptions(options, 'server', negotiated.protocol), rest, preface), request };
}
