/**
 * The {@link ClientAdapter} over the `ws` package's client (Node, in process). `ws` can
 * send fragments (`send(data, { fin: false })`, text split anywhere, even inside a
 * character), send Pings, and pause its socket.
 * @module
 */
import WebSocket from 'ws';
import type { ClosedInfo } from './protocol.ts';
import { HandshakeRefused, type ClientAdapter, type OpenOptions, type Peer } from './driver_core.ts';
import type { PayloadKind } from './payload.ts';

class WsPeer implements Peer {
  readonly closed: Promise<ClosedInfo>;
  readonly #ws: WebSocket;

  constructor(ws: WebSocket) {
    this.#ws = ws;
    // ws's WHATWG-style CloseEvent carries wasClean (both Close frames exchanged).
    this.closed = new Promise((resolve) => {
      ws.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason, wasClean: e.wasClean }), { once: true });
    });
  }

  get protocol(): string {
    return this.#ws.protocol;
  }

  send(data: string | Uint8Array): void {
    this.#ws.send(data);
  }

  sendFragments(kind: PayloadKind, parts: Array<string | Uint8Array>): void {
    parts.forEach((part, i) => this.#ws.send(part, { binary: kind === 'binary', fin: i === parts.length - 1 }));
  }

  ping(payload: string): void {
    this.#ws.ping(payload);
  }

  close(code?: number, reason?: string): void {
    this.#ws.close(code, reason);
  }

  abort(): void {
    this.#ws.terminate();
  }

  pause(): void {
    this.#ws.pause();
  }

  resume(): void {
    this.#ws.resume();
  }
}

/** The `ws` client: text fragments are raw UTF-8 bytes, split anywhere. */
export const wsAdapter: ClientAdapter = {
  rawTextFragments: true,
  open(url: string, options: OpenOptions): Promise<Peer> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options.protocols, {
        ...(options.origin === undefined ? {} : { origin: options.origin }),
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        maxPayload: 64 * 1024 * 1024,
      });
      ws.once('unexpected-response', (_request, response) => {
        reject(new HandshakeRefused(`unexpected response ${response.statusCode}`, response.statusCode));
        ws.terminate();
      });
      ws.once('error', (error) => reject(new HandshakeRefused(error.message)));
      // From the start: a message may come in the same tick as 'open'.
      ws.on('message', (data: Buffer, isBinary: boolean) => options.events.message(isBinary ? new Uint8Array(data.buffer, data.byteOffset, data.length) : data.toString('utf8')));
      ws.on('pong', (data: Buffer) => options.events.pong(data.toString('utf8')));
      ws.once('open', () => {
        if (options.paused) ws.pause();
        ws.on('error', () => {}); // reported through 'close'
        resolve(new WsPeer(ws));
      });
    });
  },
};
