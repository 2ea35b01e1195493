/**
 * Runs in the page. A `ByteDuplex` whose bytes travel over the browser's own WebSocket to
 * the byte relay of byte-relay.ts, which carries them over a TCP connection to a server:
 * the page's only network is its native WebSocket, so this is how the facade's real frames
 * (made by the codec's `clientHandshake` and connection) reach a real server.
 *
 * The relay's protocol (see byte-relay.ts):
 * - binary messages, both ways: raw TCP bytes;
 * - text `end` from the page: half-close the TCP connection (FIN), after the bytes sent before it;
 * - text `eof` from the relay: the server ended its side (FIN); no byte follows;
 * - text `open` from the relay: the TCP connection is established (sent once, first);
 * - closing the native WebSocket: the TCP connection is gone (or, from the page, drop it).
 */
import type { ByteDuplex } from '@wsflow/codec';
import { clientHandshake } from '@wsflow/codec';
import type { Dialer } from '../../packages/websocket/src/index.ts';

/** The relayed byte duplex, and how to drop it. */
export interface RelayDuplex extends ByteDuplex {
  /** Drops the relayed TCP connection (the streams error, as a reset socket's do). */
  drop(): void;
}

/**
 * Opens a relay to the relay's server and resolves once its TCP connection is up.
 * Rejects if the relay cannot connect, or if `signal` aborts first.
 */
export function openRelayDuplex(relayUrl: string, signal?: AbortSignal): Promise<RelayDuplex> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const ws = new WebSocket(relayUrl);
    ws.binaryType = 'arraybuffer';
    let readController!: ReadableStreamDefaultController<Uint8Array>;
    let readDone = false;
    let writeDone = false;
    let opened = false;
    const closeIfDone = () => {
      if (readDone && writeDone && ws.readyState < WebSocket.CLOSING) ws.close(1000);
    };
    const readable = new ReadableStream<Uint8Array>({
      start(controller) {
        readController = controller;
      },
      cancel() {
        readDone = true;
        closeIfDone();
      },
    });
    const writable = new WritableStream<Uint8Array>({
      write(chunk) {
        if (ws.readyState !== WebSocket.OPEN) throw new TypeError('the relay is closed');
        ws.send(chunk);
      },
      close() {
        writeDone = true;
        if (ws.readyState === WebSocket.OPEN) ws.send('end');
        closeIfDone();
      },
      abort() {
        // Drop the TCP connection, as destroying a socket does.
        writeDone = readDone = true;
        if (ws.readyState < WebSocket.CLOSING) ws.close(4000, 'abort');
      },
    });
    const onAbort = () => {
      ws.close(4000, 'abort');
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    ws.onmessage = (event) => {
      if (typeof event.data === 'string') {
        if (event.data === 'open' && !opened) {
          opened = true;
          signal?.removeEventListener('abort', onAbort);
          resolve({ readable, writable, drop: () => ws.close(4000, 'drop') });
        } else if (event.data === 'eof' && !readDone) {
          readDone = true;
          readController.close();
          closeIfDone();
        }
        return;
      }
      if (!readDone) readController.enqueue(new Uint8Array(event.data as ArrayBuffer));
    };
    ws.onclose = () => {
      signal?.removeEventListener('abort', onAbort);
      if (!opened) reject(new TypeError('the relay could not connect'));
      if (!readDone) {
        readDone = true;
        readController.error(new TypeError('the relayed TCP connection was reset'));
      }
      writeDone = true;
    };
  });
}

/**
 * A facade dialer over the relay: opens a relayed TCP connection, then performs the
 * codec's opening handshake over it with the subprotocols and the `Origin` the facade gives.
 */
export function relayDialer(relayUrl: string): Dialer {
  return async ({ url, protocols, signal, origin }) => {
    const duplex = await openRelayDuplex(relayUrl, signal);
    const handshake = clientHandshake(duplex, url, { protocols: [...protocols], origin });
    // The handshake holds the streams' locks: dropping the relay makes it reject.
    const onAbort = () => duplex.drop();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await handshake;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  };
}
