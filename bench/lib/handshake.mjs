// The client side of the opening handshake (RFC 6455 §4.1) on a raw node:net socket, for
// the load generators (bench/node/load.mjs, bench/deflate/load.mjs, bench/fanout/load.mjs)
// and the fan-out memory benchmark: as little as a WebSocket client can do (the 101 and
// Sec-WebSocket-Accept are checked, and an offered extension's acceptance), so that
// thousands of clients cost their server-side counterpart's measurement nothing.
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';

/** The GUID that Sec-WebSocket-Accept hashes with the key (RFC 6455 §1.3). */
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** The end of an HTTP head (RFC 9112 §2.1). */
const CRLF2 = Buffer.from('\r\n\r\n');
/** A 101 head longer than this is an error rather than something to wait for. */
const MAX_HEAD = 16384;

/**
 * Opens a TCP connection to 127.0.0.1:`port` and completes the client handshake. Resolves
 * with the socket (paused: its data flow is the caller's) and the bytes that followed the
 * 101 head. With `extensions` (a Sec-WebSocket-Extensions offer, e.g.
 * `permessage-deflate; client_max_window_bits`), the offer is sent and the 101 must accept
 * the offered extension.
 *
 * @example
 *   const { socket, rest } = await handshake(port, { timeoutMs: 15_000, extensions: 'permessage-deflate' });
 */
export function handshake(port, { timeoutMs = 10_000, extensions } = {}) {
  return new Promise((resolve, reject) => {
    const key = randomBytes(16).toString('base64');
    const socket = connect({ port, host: '127.0.0.1', noDelay: true });
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new Error('handshake timeout')), timeoutMs);
    const fail = (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      const offer = extensions === undefined ? '' : `Sec-WebSocket-Extensions: ${extensions}\r\n`;
      socket.write(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${offer}\r\n`,
        'latin1',
      );
    });
    const onData = (chunk) => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const end = head.indexOf(CRLF2);
      if (end < 0) {
        if (head.length > MAX_HEAD) fail(new Error('response head too large'));
        return;
      }
      socket.off('data', onData);
      socket.pause();
      clearTimeout(timer);
      socket.off('error', fail);
      const text = head.toString('latin1', 0, end);
      const error = responseError(text, key, extensions);
      if (error !== null) {
        socket.destroy();
        reject(error);
        return;
      }
      resolve({ socket, rest: head.subarray(end + 4) });
    };
    socket.on('data', onData);
  });
}

/** Why the 101 head `text` does not complete the handshake, or null when it does. */
function responseError(text, key, extensions) {
  const accept = /\r\nsec-websocket-accept:[ \t]*([^\r\n]*)/i.exec(text)?.[1]?.trim();
  if (!text.startsWith('HTTP/1.1 101') || accept !== createHash('sha1').update(key + GUID).digest('base64')) {
    return new Error(`bad handshake response: ${text.split('\r\n')[0]}`);
  }
  if (extensions === undefined) return null;
  const name = extensions.split(/[;,]/)[0].trim();
  const accepted = /\r\nsec-websocket-extensions:[ \t]*([^\r\n]*)/i.exec(text)?.[1]?.trim() ?? '';
  if (accepted === name || (accepted.startsWith(name) && /^[\s;,]/.test(accepted.slice(name.length)))) return null;
  return new Error(`the server did not accept ${name} (Sec-WebSocket-Extensions: ${accepted || 'none'})`);
}
