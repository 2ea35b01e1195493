/**
 * The server side of the opening handshake on a conn whose request head was read. The
 * decision (path, RFC 6455 checks, the async authorization hook, the 101) is the codec's
 * `decideUpgrade`; this module hands it the head and the `Request`, and carries the answer
 * out on the conn.
 * @module
 */
import { decideUpgrade, fieldValues, parseCookies, type RequestHead } from '@wsflow/codec';
import { bindConn, type PendingConnection } from './conn_connection.ts';
import { connectionOptions, defaultDeflateEngine } from './connection_settings.ts';
import { denoTimers } from './deno_timers.ts';
import { rejectConn } from './http_answer.ts';
import { headersOfHead, urlOfHead } from './request_of.ts';
import type { UpgradeOptions } from './upgrade_options.ts';

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
  const remote = context.remoteAddr;
  const decision = await decideUpgrade(
    {
      head,
      target: head.target,
      request: () => request,
      describe: () => ({
        url: urlOfHead(head, context.secure ? 'wss:' : 'ws:'),
        headers: headersOfHead(head),
        cookies: parseCookies(fieldValues(head.rawHeaders, 'cookie')),
        remoteAddress: remote.transport === 'tcp' || remote.transport === 'udp' ? remote.hostname : undefined,
      }),
    },
    options,
    { timers: denoTimers, deadline: context.signal, deflateEngine: defaultDeflateEngine },
  );
  if (!decision.accepted) {
    const { status, code, error, headers, body } = decision;
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
  }
  // The 101 is the transport's first write: whatever the handler sends queues behind it.
  const preface = new TextEncoder().encode(decision.response);
  return { pending: bindConn(conn, connectionOptions(options, 'server', decision.negotiated.protocol, decision.extensions), rest, preface), request };
}
