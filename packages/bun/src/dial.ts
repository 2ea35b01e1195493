/**
 * Opening TCP and TLS connections with `Bun.connect` as promises of a
 * {@link BunSocketTransport}, and starting TLS on an open one (through a proxy tunnel).
 * Each transport is handed to a tracker as soon as it exists, so that a handshake timeout
 * or abort can drop it mid-dial.
 * @module
 */
import { bunRuntime, type BunSocket, type BunTlsOptions } from './bun_types.ts';
import { IGNORE_RECEIVER } from '@wsflow/engine';
import { BunSocketTransport, transportHandlers } from './socket_transport.ts';

/** Receives each transport opened, the moment it is created. */
export type TransportTracker = (transport: BunSocketTransport) => void;

/**
 * TLS options as Bun must get them: Bun 1.4 silently dials plain TCP for an empty `tls`
 * object, so `rejectUnauthorized` is always spelled out (default true).
 */
function tlsSettings(tls: BunTlsOptions): BunTlsOptions {
  return { ...tls, rejectUnauthorized: tls.rejectUnauthorized ?? true };
}

/** Resolves once the transport's TLS handshake succeeded; rejects with the reason it failed. */
function secured(transport: BunSocketTransport): Promise<BunSocketTransport> {
  return new Promise((resolve, reject) => {
    transport.onSecure = (error) => {
      if (error === null) resolve(transport);
      else {
        transport.destroy();
        reject(error);
      }
    };
  });
}

/**
 * Opens a TCP connection, or a TLS one with `tls` (resolving only after the TLS handshake:
 * `Bun.connect` itself resolves before it, and writes made then are lost).
 * @example
 * ```ts
 * const transport = await dial('example.com', 443, { serverName: 'example.com' }, () => {});
 * ```
 */
export async function dial(hostname: string, port: number, tls: BunTlsOptions | undefined, track: TransportTracker): Promise<BunSocketTransport> {
  const transport = new BunSocketTransport();
  track(transport);
  const handshake = tls === undefined ? null : secured(transport);
  handshake?.catch(() => {});
  await bunRuntime().connect<BunSocketTransport>({ hostname, port, tls: tls === undefined ? undefined : tlsSettings(tls), allowHalfOpen: true, data: transport, socket: transportHandlers });
  return handshake ?? transport;
}

/**
 * Starts TLS on an open transport (a proxy tunnel): resolves with the TLS transport once
 * its handshake succeeded. The raw transport is left to it.
 * @example
 * ```ts
 * const secure = await startTls(tunnel, { serverName: 'example.com' }, () => {});
 * ```
 */
export async function startTls(raw: BunSocketTransport, tls: BunTlsOptions, track: TransportTracker): Promise<BunSocketTransport> {
  const socket = raw.socket;
  if (socket === null || raw.closed) throw new Error('The connection closed before TLS could start');
  const transport = new BunSocketTransport();
  track(transport);
  const handshake = secured(transport);
  handshake.catch(() => {});
  // Bun keeps delivering the raw (encrypted) bytes to the old handlers too: ignore them.
  raw.receiver = IGNORE_RECEIVER;
  raw.release();
  const [, tlsSocket] = socket.upgradeTLS<BunSocketTransport>({ data: transport, tls: tlsSettings(tls), socket: transportHandlers });
  if (transport.socket === null) transport.attach(tlsSocket as BunSocket<BunSocketTransport>);
  return handshake;
}
