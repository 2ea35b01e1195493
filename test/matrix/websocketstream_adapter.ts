/**
 * The {@link ClientAdapter} over a runtime's built-in `WebSocketStream` (Chromium ships
 * it). Its `readable` is pulled, so an unread stream stops reading from the network: the
 * one standard browser API with receive backpressure. No fragments, no Ping.
 * @module
 */
import type { ClosedInfo } from './protocol.ts';
import { HandshakeRefused, type ClientAdapter, type OpenOptions, type Peer, type PeerEvents } from './driver_core.ts';

/** The members of `WebSocketStream` used here. */
interface NativeStream {
  readonly opened: Promise<{ readable: ReadableStream<string | ArrayBuffer | Uint8Array>; writable: WritableStream<string | Uint8Array>; protocol: string }>;
  readonly closed: Promise<{ closeCode: number; reason: string }>;
  close(info?: { closeCode?: number; reason?: string }): void;
}

function bytesOf(data: ArrayBuffer | Uint8Array): Uint8Array {
  return data instanceof Uint8Array ? data : new Uint8Array(data);
}

class StreamPeer implements Peer {
  readonly protocol: string;
  readonly closed: Promise<ClosedInfo>;
  readonly #stream: NativeStream;
  readonly #writer: WritableStreamDefaultWriter<string | Uint8Array>;
  readonly #events: PeerEvents;
  #paused: boolean;
  #wake: (() => void) | null = null;

  constructor(stream: NativeStream, opened: Awaited<NativeStream['opened']>, events: PeerEvents, paused: boolean) {
    this.#stream = stream;
    this.protocol = opened.protocol;
    this.#writer = opened.writable.getWriter();
    this.#events = events;
    this.#paused = paused;
    // Clean: `closed` resolves with the code and reason; unclean: it rejects with a WebSocketError.
    this.closed = stream.closed.then(
      ({ closeCode, reason }) => ({ code: closeCode, reason, wasClean: true }),
      (error: { closeCode?: number; reason?: string }) => ({ code: error?.closeCode ?? 1006, reason: error?.reason ?? '', wasClean: false }),
    );
    void this.#pump(opened.readable.getReader());
  }

  async #pump(reader: ReadableStreamDefaultReader<string | ArrayBuffer | Uint8Array>): Promise<void> {
    try {
      for (;;) {
        while (this.#paused) await new Promise<void>((resolve) => (this.#wake = resolve));
        const { done, value } = await reader.read();
        if (done) return;
        this.#events.message(typeof value === 'string' ? value : bytesOf(value));
      }
    } catch {
      // The stream errors when the connection ends uncleanly; `closed` tells how.
    }
  }

  send(data: string | Uint8Array): void {
    // In order; a failure shows up as the connection's end.
    this.#writer.write(data).catch(() => {});
  }

  close(code?: number, reason?: string): void {
    this.#stream.close(code === undefined ? undefined : { closeCode: code, reason: reason ?? '' });
  }

  abort(): void {
    try {
      this.#stream.close();
    } catch {
      /* closed already */
    }
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#wake?.();
    this.#wake = null;
  }
}

/** An adapter over `WebSocketStreamClass` (the runtime's global `WebSocketStream`). */
export function webSocketStreamAdapter(WebSocketStreamClass: unknown): ClientAdapter {
  const Ctor = WebSocketStreamClass as new (url: string, options?: { protocols?: string[] }) => NativeStream;
  return {
    async open(url: string, options: OpenOptions): Promise<Peer> {
      const stream = new Ctor(url, { protocols: options.protocols });
      stream.closed.catch(() => {});
      let opened: Awaited<NativeStream['opened']>;
      try {
        opened = await stream.opened;
      } catch (error) {
        throw new HandshakeRefused(`the handshake failed (${String((error as Error)?.message ?? error)})`);
      }
      return new StreamPeer(stream, opened, options.events, options.paused);
    },
  };
}
