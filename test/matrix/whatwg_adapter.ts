/**
 * The {@link ClientAdapter} over a runtime's built-in WHATWG `WebSocket` (Deno, Bun,
 * Chromium). The standard API cannot send fragments, cannot stop reading and has no
 * Ping; runtime extensions fill some of that in (see {@link WhatwgExtensions}).
 * @module
 */
import type { ClosedInfo } from './protocol.ts';
import { HandshakeRefused, type ClientAdapter, type OpenOptions, type Peer } from './driver_core.ts';

/** What a runtime adds to the standard `WebSocket`. */
export interface WhatwgExtensions {
  /**
   * Builds the constructor's second argument. Standard: the protocol list. Deno and Bun
   * also take `{ protocols, headers }` (so an `Origin`), Bun `{ tls: { ca } }`.
   */
  init(options: OpenOptions): unknown;
  /** Bun: `ws.ping(data)` and `pong` events. */
  ping?: boolean;
}

/** The standard members used, plus Bun's `ping`. */
interface NativeSocket {
  binaryType: string;
  readonly protocol: string;
  onopen: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string; wasClean: boolean }) => void) | null;
  addEventListener(type: string, listener: (event: { data?: unknown }) => void): void;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  ping?(data: string): void;
}

const decoder = new TextDecoder();

function bytesOf(data: unknown): Uint8Array {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(`unexpected message data ${Object.prototype.toString.call(data)}`);
}

class WhatwgPeer implements Peer {
  readonly closed: Promise<ClosedInfo>;
  readonly #ws: NativeSocket;

  constructor(ws: NativeSocket, closed: Promise<ClosedInfo>, ping: boolean) {
    this.#ws = ws;
    this.closed = closed;
    if (ping) {
      this.ping = (payload: string) => ws.ping!(payload);
    }
  }

  ping?: (payload: string) => void;

  get protocol(): string {
    return this.#ws.protocol;
  }

  send(data: string | Uint8Array): void {
    this.#ws.send(data);
  }

  close(code?: number, reason?: string): void {
    if (code === undefined) this.#ws.close();
    else this.#ws.close(code, reason);
  }

  abort(): void {
    // The standard API has no abort: a close without waiting is the nearest.
    try {
      this.#ws.close();
    } catch {
      /* closed already */
    }
  }
}

/** An adapter over `WebSocketClass` (the runtime's global `WebSocket`). */
export function whatwgAdapter(WebSocketClass: unknown, extensions: WhatwgExtensions): ClientAdapter {
  const Ctor = WebSocketClass as new (url: string, init?: unknown) => NativeSocket;
  return {
    open(url: string, options: OpenOptions): Promise<Peer> {
      return new Promise((resolve, reject) => {
        const ws = new Ctor(url, extensions.init(options));
        ws.binaryType = 'arraybuffer';
        const { events } = options;
        ws.onmessage = (e) => events.message(typeof e.data === 'string' ? e.data : bytesOf(e.data));
        if (extensions.ping === true) {
          ws.addEventListener('pong', (e) => events.pong(typeof e.data === 'string' ? e.data : decoder.decode(bytesOf(e.data))));
        }
        let opened = false;
        let settle!: (info: ClosedInfo) => void;
        const closed = new Promise<ClosedInfo>((r) => (settle = r));
        ws.onopen = () => {
          opened = true;
          resolve(new WhatwgPeer(ws, closed, extensions.ping === true));
        };
        ws.onerror = () => {
          // The standard API tells nothing about a refused handshake but "error", then close 1006.
          if (!opened) reject(new HandshakeRefused('the handshake failed (error event)'));
        };
        ws.onclose = (e) => {
          settle({ code: e.code, reason: e.reason, wasClean: e.wasClean });
          if (!opened) reject(new HandshakeRefused(`the handshake failed (close ${e.code})`));
        };
      });
    },
  };
}
