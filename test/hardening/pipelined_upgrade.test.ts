// Found by the socket fuzzer (header injection: "\r\n\r\nGET / HTTP/1.1" inside a header):
// a request the server refuses with `Connection: close`, followed in the same packet by a
// valid upgrade request. The server must not upgrade on the closing socket: on Node,
// node:http emitted `upgrade` for the pipelined request after its 400 for a missing Host,
// and the handler was handed a connection that had already closed (its onclose fired
// before the handler could set it, so per-connection cleanup never ran).
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { RUNTIMES, ServerProcess } from '../../tools/soak/server_process.ts';
import { upgradeRequest } from '../../tools/soak/wire.ts';

/** Writes `bytes`, then collects everything the server sends until it closes (at most `ms`). */
function exchange(port: number, bytes: string, ms: number): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let text = '';
    let closed = false;
    const timer = setTimeout(() => finish(), ms);
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed });
    };
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.once('connect', () => socket.write(bytes, 'latin1'));
  });
}

describe.each(RUNTIMES)('the %s server and pipelined requests', (runtime) => {
  it('does not upgrade a request pipelined after one it refused with Connection: close', async () => {
    const server = await ServerProcess.start(runtime);
    try {
      // No Host (and no Upgrade): refused with 400 (node:http) or 426 (Deno, Bun), Connection: close.
      const refused = 'GET /echo HTTP/1.1\r\nOrigin: http://example.test\r\n\r\n';
      const upgrade = upgradeRequest(`127.0.0.1:${server.port}`, '/', 'dGhlIHNhbXBsZSBub25jZQ==');
      const { text, closed } = await exchange(server.port, refused + upgrade, 3000);
      expect(text).toMatch(/^HTTP\/1\.1 4\d\d /);
      expect(text).toMatch(/\r\nconnection: close\r\n/i);
      expect(text).not.toContain('101 Switching Protocols');
      expect(closed).toBe(true);
      const stats = await server.stats();
      expect(stats.accepted).toBe(0);
      expect(stats.closedAtHandler).toBe(0);
      expect(server.alive).toBe(true);
    } finally {
      await server.stop();
    }
  }, 30_000);
});
