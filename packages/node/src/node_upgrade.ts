/**
 * A socket from a `node:http` server's `upgrade` event, as the server engine takes it: the
 * engine socket over it, the request head node:http read (as a codec `RequestHead`), and
 * where it was accepted (scheme and `host:port`, for requests without a `Host`).
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { RequestHead } from '@wsflow/codec';
import { authorityOf, ServerHandshake } from '@wsflow/codec';
import { refuseSocket, ServerEngine, targetPath, type ListenerInfo, type ServerOptions } from '@wsflow/engine';
import { nodeAdapter } from './connection_settings.ts';
import { NodeEngineSocket } from './node_socket.ts';

const noop = (): void => {};

/** The request's pathname, without the query. */
export function requestPath(request: IncomingMessage): string {
  return targetPath(request.url ?? '/');
}

/**
 * The request node:http read, as a codec {@link RequestHead}: method, target, the version
 * as sent, and the field lines in order (repeated fields kept, joined when looked up).
 * @example
 * ```ts
 * engine.upgrade(socket, headOfRequest(request), head, request);
 * ```
 */
export function headOfRequest(request: IncomingMessage): RequestHead {
  const raw = request.rawHeaders;
  const rawHeaders: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) rawHeaders.push([raw[i], raw[i + 1]]);
  const distinct = request.headersDistinct;
  return {
    kind: 'request',
    method: request.method ?? '',
    target: request.url ?? '/',
    version: `HTTP/${request.httpVersion}`,
    headers: { get: (name: string) => distinct[name]?.join(', ') },
    rawHeaders,
  } as RequestHead;
}

/** Where `socket` was accepted: its scheme and the local `host:port`. */
export function listenerOf(socket: Duplex): ListenerInfo {
  const local = socket as Partial<Socket> & { encrypted?: boolean };
  return { secure: local.encrypted === true, authority: authorityOf(local.localAddress ?? 'localhost', local.localPort ?? 0) };
}

/**
 * The engine socket over an upgraded socket, or `null` for one node:http already ended
 * (it may still emit `upgrade` for a request pipelined after one it answered with
 * `Connection: close`): that one is dropped. node:http leaves a timeout of its own on the
 * socket; the WebSocket's idle peers are the heartbeat's business.
 */
export function engineSocketOf(socket: Duplex): NodeEngineSocket | null {
  if (socket.destroyed || socket.writableEnded) {
    socket.on('error', noop);
    socket.destroy();
    return null;
  }
  (socket as Partial<Socket>).setTimeout?.(0);
  return new NodeEngineSocket(socket as Socket);
}

/**
 * Answers an upgrade no endpoint serves and ends the socket, as the engine ends every
 * refused socket (what the client still sends is discarded, and the socket is destroyed
 * if the client lingers).
 */
export function refuseUpgrade(socket: Duplex, status: number, body: string): void {
  const engineSocket = engineSocketOf(socket);
  if (engineSocket !== null) refuseSocket(engineSocket, ServerHandshake.refuse(status, 'PATH_MISMATCH', { body }), nodeAdapter.timers);
}

/**
 * The server engine of an `attach` endpoint or a `handleUpgrade` options object: requests
 * always come read by node:http (`upgrade`), so the listener is each socket's own and the
 * engine never reads a head itself; `onReject` always gets the request.
 * @param where who is asking, for the error a head read by the engine would be
 */
export function upgradeEngine(options: ServerOptions<IncomingMessage>, where: string): ServerEngine<IncomingMessage> {
  return new ServerEngine<IncomingMessage>(options, nodeAdapter, { secure: false, authority: 'localhost' }, () => {
    throw new TypeError(`${where} takes requests node:http read`);
  });
}
