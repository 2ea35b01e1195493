// A small HTTP CONNECT proxy on Bun.listen for the proxy tests: optional Basic credentials
// (407 without them), a log of the tunnels asked for, and byte piping both ways.
import type { BunListener, BunSocket } from '../../src/bun_types.ts';
import { Bun } from './bun_test_api.ts';

interface Leg {
  socket: BunSocket<Leg> | null;
  peer: Leg | null;
  queue: Uint8Array[];
  head: string;
  tunneled: boolean;
}

function pipeWrite(leg: Leg, bytes: Uint8Array): void {
  if (leg.socket === null) {
    leg.queue.push(bytes);
    return;
  }
  if (leg.queue.length > 0) {
    leg.queue.push(bytes);
    return;
  }
  const written = leg.socket.write(bytes);
  if (written >= 0 && written < bytes.length) leg.queue.push(bytes.subarray(written));
}

function flush(leg: Leg): void {
  while (leg.socket !== null && leg.queue.length > 0) {
    const head = leg.queue[0];
    const written = leg.socket.write(head);
    if (written < 0) return;
    if (written < head.length) {
      leg.queue[0] = head.subarray(written);
      return;
    }
    leg.queue.shift();
  }
}

export interface TestProxy {
  readonly port: number;
  readonly url: string;
  /** CONNECT targets asked for, in order, with the credentials sent. */
  readonly requests: Array<{ target: string; authorization: string | undefined }>;
  stop(): void;
}

export function startProxy(options: { user?: string; password?: string } = {}): TestProxy {
  const requests: TestProxy['requests'] = [];
  const expected = options.user === undefined ? undefined : `Basic ${btoa(`${options.user}:${options.password ?? ''}`)}`;
  const listener: BunListener = Bun.listen<Leg>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      binaryType: 'uint8array',
      open(socket) {
        socket.data = { socket, peer: null, queue: [], head: '', tunneled: false };
      },
      data(socket, chunk) {
        const leg = socket.data;
        if (leg.tunneled) {
          if (leg.peer !== null) pipeWrite(leg.peer, chunk);
          return;
        }
        leg.head += String.fromCharCode(...chunk);
        const end = leg.head.indexOf('\r\n\r\n');
        if (end < 0) return;
        const lines = leg.head.slice(0, end).split('\r\n');
        const [method, target] = lines[0].split(' ');
        const authorization = lines.find((l) => /^proxy-authorization:/i.test(l))?.replace(/^[^:]*:\s*/, '');
        requests.push({ target, authorization });
        if (method !== 'CONNECT') {
          socket.write('HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
          socket.end();
          return;
        }
        if (expected !== undefined && authorization !== expected) {
          socket.write('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
          socket.end();
          return;
        }
        leg.tunneled = true;
        socket.pause();
        const colon = target.lastIndexOf(':');
        const upstream: Leg = { socket: null, peer: leg, queue: [], head: '', tunneled: true };
        leg.peer = upstream;
        Bun.connect<Leg>({
          hostname: target.slice(0, colon).replace(/^\[(.*)\]$/, '$1'),
          port: Number(target.slice(colon + 1)),
          data: upstream,
          socket: {
            binaryType: 'uint8array',
            open(up) {
              upstream.socket = up;
              flush(upstream);
            },
            data(_up, bytes) {
              pipeWrite(leg, bytes);
            },
            drain() {
              flush(upstream);
            },
            close() {
              leg.socket?.end();
            },
            error() {},
          },
        }).then(
          () => {
            socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
            socket.resume();
          },
          () => {
            socket.write('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
            socket.end();
          },
        );
      },
      drain(socket) {
        flush(socket.data);
      },
      close(socket) {
        socket.data.socket = null;
        socket.data.peer?.socket?.end();
      },
      error() {},
    },
  });
  return {
    port: listener.port,
    url: `http://127.0.0.1:${listener.port}`,
    requests,
    stop: () => listener.stop(true),
  };
}
