/**
 * Reads one HTTP/1.1 response head off a socket with the codec's incremental parser,
 * keeping the bytes that followed it.
 * @module
 */
import type { Duplex } from 'node:stream';
import { HttpHeadParser, type HttpHeadOptions, type ResponseHead } from '@wsflow/codec';

/** A response head and the bytes that arrived after it in the same read. */
export interface HeadAndRest {
  head: ResponseHead;
  /** Bytes after the head (early frames, say); maybe empty. */
  rest: Uint8Array;
}

/**
 * Resolves with the next response head read from `socket`, which is left paused with no
 * `data` listener, so nothing after the head is lost. Rejects when the head is malformed
 * (`HandshakeError`) or the socket ends, fails or closes first.
 */
export function readResponseHead(socket: Duplex, options: HttpHeadOptions = {}): Promise<HeadAndRest> {
  return new Promise((resolve, reject) => {
    const parser = new HttpHeadParser('response', options);
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      socket.pause();
    };
    const onData = (chunk: Uint8Array): void => {
      let result;
      try {
        result = parser.push(chunk);
      } catch (error) {
        cleanup();
        reject(error);
        return;
      }
      if (result === null) return;
      cleanup();
      resolve({ head: result.head, rest: result.rest });
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error('The connection closed before a complete response head arrived'));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
    // A socket left paused by an earlier head (a proxy's CONNECT answer) must flow again.
    socket.resume();
  });
}
