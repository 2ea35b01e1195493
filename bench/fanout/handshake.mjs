// The client side of the opening handshake on a raw node:net socket, for the fan-out load
// generator and the memory benchmark: as little as a WebSocket client can do (the 101 and
// Sec-WebSocket-Accept are checked), so that thousands of clients cost their server-side
// counterpart's measurement nothing.
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const CRLF2 = Buffer.from('\r\n\r\n');

/** Opens a TCP connection and completes the client handshake; resolves with the socket and any bytes after the 101 head. */
export function handshake(port, timeoutMs = 10_000) {
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
      socket.write(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        'latin1',
      );
    });
    const onData = (chunk) => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const end = head.indexOf(CRLF2);
      if (end < 0) {
        if (head.length > 16384) fail(new Error('response head too large'));
        return;
      }
      socket.off('data', onData);
      socket.pause();
      clearTimeout(timer);
      socket.off('error', fail);
      const text = head.toString('latin1', 0, end);
      const accept = /\r\nsec-websocket-accept:[ \t]*([^\r\n]*)/i.exec(text)?.[1]?.trim();
      if (!text.startsWith('HTTP/1.1 101') || accept !== createHash('sha1').update(key + GUID).digest('base64')) {
        socket.destroy();
        reject(new Error(`bad handshake response: ${text.split('\r\n')[0]}`));
        return;
      }
      resolve({ socket, rest: head.subarray(end + 4) });
    };
    socket.on('data', onData);
  });
}

