/**
 * Opening TCP and TLS sockets as promises, each handed to a tracker as soon as it exists
 * so that a handshake timeout or abort can destroy it mid-dial.
 * @module
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsConnectionOptions, type TLSSocket } from 'node:tls';

/** Receives each socket opened, the moment it is created. */
export type SocketTracker = (socket: Socket) => void;

function settle<S extends Socket>(socket: S, readyEvent: 'connect' | 'secureConnect'): Promise<S> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      socket.off(readyEvent, onReady);
      reject(error);
    };
    const onReady = (): void => {
      socket.off('error', onError);
      resolve(socket);
    };
    socket.once('error', onError);
    socket.once(readyEvent, onReady);
  });
}

/** Opens a TCP connection. */
export function dialTcp(host: string, port: number, track: SocketTracker): Promise<Socket> {
  const socket = netConnect({ host, port });
  track(socket);
  return settle(socket, 'connect');
}

/** Opens a TLS connection (over `options.socket` when given) and waits for its handshake. */
export function dialTls(options: TlsConnectionOptions, track: SocketTracker): Promise<TLSSocket> {
  const socket = tlsConnect(options);
  track(socket);
  return settle(socket, 'secureConnect');
}
