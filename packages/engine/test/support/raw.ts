/**
 * Raw TCP for the behaviour suites, through `node:net`, which Node, Deno and Bun all have:
 * send bytes exactly as written and read the answer until the server ends the socket.
 * @module
 */
import { connect as netConnect } from 'node:net';

/** Sends `request` and resolves with everything the server sent until it closed (at most `ms`). */
export function exchange(port: number, request: string, ms = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    const chunks: Uint8Array[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(new TextDecoder().decode(concat(chunks)));
    }, ms);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Uint8Array) => chunks.push(chunk));
    socket.on('error', (error: Error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(new TextDecoder().decode(concat(chunks)));
    });
  });
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** The status code of a raw HTTP answer (0 when there was none). */
export function statusOf(answer: string): number {
  const match = /^HTTP\/1\.1 (\d{3})/.exec(answer);
  return match === null ? 0 : Number(match[1]);
}

/** A WebSocket upgrade request head for `target`, with extra header lines. */
export function upgradeHead(target: string, host: string, extra: string[] = []): string {
  return [
    `GET ${target} HTTP/1.1`,
    `Host: ${host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    ...extra,
    '',
    '',
  ].join('\r\n');
}

/** Resolves once `check` holds, polling; rejects naming `what` after `ms`. */
export async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
