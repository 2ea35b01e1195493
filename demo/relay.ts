/**
 * Hands a WebSocket upgrade that arrived at the demo's `node:http` server on to the wsflow
 * server behind it (`serve`, on a loopback port of its own), byte for byte, and shows the
 * frame tap every byte that passes after the handshake.
 *
 * Why a relay: the chat room is a topic, and topics are on `serve`'s connections (Node's
 * `attach` on node:http has none); the page and its Server-Sent Events stream (`/frames`)
 * stay on node:http, because `serve`'s `fetch` answers are buffered whole (with
 * Content-Length), so an endless event stream cannot be one; and `serve` keeps its sockets
 * to itself, while the frame log needs the bytes as they cross the wire. So node:http
 * takes the page's request, opens a TCP connection to `serve`, replays the request on it
 * and joins the two sockets, feeding copies of the frames to the tap on the way.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FrameTap } from './frame_tap.ts';

/** The request header that tells the wsflow server which frame log a connection has. */
export const TAP_HEADER = 'x-wsflow-demo-tap';

const HEAD_END = Buffer.from('\r\n\r\n');

/** Where to relay to and what to tell the server. */
export interface RelayTarget {
  port: number;
  host: string;
  /** The frame log's id, sent to the server in {@link TAP_HEADER}. */
  tapId: string;
}

/**
 * Relays one upgrade request (from node:http's `upgrade` event) to `target`. The page's own
 * {@link TAP_HEADER}, if any, is dropped. Either socket ending or failing ends the other.
 *
 * @example
 * ```ts
 * server.on('upgrade', (request, socket, head) => relayUpgrade(request, socket, head, { port, host: '127.0.0.1', tapId }, tap));
 * ```
 */
export function relayUpgrade(request: IncomingMessage, page: Duplex, head: Buffer, target: RelayTarget, tap: FrameTap): void {
  const upstream: Socket = connect({ port: target.port, host: target.host, noDelay: true });
  let lines = `${request.method} ${request.url} HTTP/${request.httpVersion}\r\n`;
  const raw = request.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() !== TAP_HEADER) lines += `${raw[i]}: ${raw[i + 1]}\r\n`;
  lines += `${TAP_HEADER}: ${target.tapId}\r\n\r\n`;
  upstream.write(lines, 'latin1');
  if (head.length > 0) {
    tap.incoming(head);
    upstream.write(head);
  }

  // Page → server: every byte past the request head is a client frame.
  page.on('data', (chunk: Buffer) => {
    tap.incoming(chunk);
    if (!upstream.write(chunk)) page.pause();
  });
  upstream.on('drain', () => page.resume());

  // Server → page: the 101 response head first (not a frame), then server frames.
  let response: Buffer | null = Buffer.alloc(0);
  upstream.on('data', (chunk: Buffer) => {
    if (response !== null) {
      const seen = Buffer.concat([response, chunk]);
      const end = seen.indexOf(HEAD_END);
      if (end < 0) response = seen;
      else {
        response = null;
        const frames = seen.subarray(end + HEAD_END.length);
        if (frames.length > 0) tap.outgoing(frames);
      }
    } else tap.outgoing(chunk);
    if (!page.write(chunk)) upstream.pause();
  });
  page.on('drain', () => upstream.resume());

  // A half-close is passed on as one. When the server's side is gone, the page's gets
  // what is still queued for it, then is ended (and destroyed 2 s later if the page keeps
  // it open); when the page is gone, there is nobody to deliver to. An error ends both.
  page.on('end', () => upstream.end());
  upstream.on('end', () => page.end());
  upstream.on('close', () => {
    page.end();
    setTimeout(() => page.destroy(), 2000).unref();
  });
  page.on('close', () => upstream.destroy());
  const destroyBoth = (): void => {
    page.destroy();
    upstream.destroy();
  };
  page.on('error', destroyBoth);
  upstream.on('error', destroyBoth);
}
