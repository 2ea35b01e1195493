/**
 * A byte relay for browser specs: a WebSocket endpoint (served by `ws`) whose binary
 * messages carry the raw bytes of a TCP connection the relay opens to a fixed port on
 * 127.0.0.1. A page can then run a protocol stack of its own (the codec's client
 * handshake and framing) over its native WebSocket and reach a real TCP server.
 * The page side is relay-duplex.ts, which documents the little protocol.
 *
 * The relay only ever connects to the port it was made for (never to a target named by
 * the page), so it is no open proxy.
 */
import type { IncomingMessage, Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';

export interface ByteRelay {
  /** Whether an upgrade request is for the relay (its path). */
  matches(request: IncomingMessage): boolean;
  /** Handles an upgrade request for the relay. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Drops every relayed connection. */
  close(): void;
}

/**
 * Makes a relay at `path` that connects to `127.0.0.1:targetPort`. Call its
 * `handleUpgrade` from the server's `upgrade` listener for requests it `matches`.
 */
export function createByteRelay(options: { path: string; targetPort: () => number }): ByteRelay {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const sockets = new Set<Socket>();
  wss.on('connection', (ws: WsSocket) => {
    // Half-open allowed: the server's FIN is relayed as `eof` and our side stays open until
    // the page ends it (`end`), as a client's TCP stack would behave.
    const tcp = connect({ host: '127.0.0.1', port: options.targetPort(), allowHalfOpen: true });
    sockets.add(tcp);
    tcp.setNoDelay(true);
    // Bytes from the page before the TCP connection is up are queued by the socket.
    ws.on('message', (data, isBinary) => {
      if (isBinary) tcp.write(data as Buffer);
      else if (String(data) === 'end') tcp.end();
    });
    ws.on('close', () => tcp.destroy());
    ws.on('error', () => tcp.destroy());
    tcp.on('connect', () => ws.send('open'));
    tcp.on('data', (chunk) => ws.send(chunk, { binary: true }));
    tcp.on('end', () => {
      if (ws.readyState === ws.OPEN) ws.send('eof');
    });
    tcp.on('error', () => undefined);
    tcp.on('close', () => {
      sockets.delete(tcp);
      // After the page saw every byte and the end: close the relay (code 1000 when clean).
      if (ws.readyState === ws.OPEN) ws.close(1000);
    });
  });
  return {
    matches: (request) => new URL(request.url ?? '/', 'http://127.0.0.1').pathname === options.path,
    handleUpgrade(request, socket, head) {
      wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
    },
    close() {
      for (const tcp of sockets) tcp.destroy();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
