// `reusePort` on every runtime, written once: this file runs under Vitest against
// @wsflow/node, and under Deno (with --unstable-net) and Bun against their shims.
import { afterEach, describe, expect, it } from 'vitest';
import { connect, runtime, serve, type WebSocketConnection } from './support/shim.ts';

type Options = Parameters<typeof serve>[0];
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Options): Promise<{ port: number; close(): Promise<void> }> {
  const server = await serve(options);
  cleanups.push(() => server.close());
  return server;
}

// SO_REUSEPORT load balancing is a Linux feature; elsewhere the option is refused or inert.
const linux = (globalThis as { process?: { platform?: string } }).process?.platform === 'linux';

describe(`serve on ${runtime}: reusePort`, () => {
  it.runIf(linux)('lets two servers listen on one port and spreads connections across both', async () => {
    const seen = [0, 0];
    const tag = (i: number) => (conn: WebSocketConnection) => {
      seen[i]++;
      conn.onmessage = () => conn.send(String(i));
    };
    const first = await start({ reusePort: true, handler: tag(0) });
    const second = await start({ reusePort: true, port: first.port, handler: tag(1) });
    expect(second.port).toBe(first.port);
    // 24 connections from different source ports: all on one listener has odds 2^-23.
    const conns = await Promise.all(Array.from({ length: 24 }, () => connect(`ws://127.0.0.1:${first.port}/`, { proxy: false })));
    const answers = await Promise.all(conns.map((c) => new Promise((resolve) => ((c.onmessage = resolve), c.send('who')))));
    for (const c of conns) c.close();
    expect(seen[0] + seen[1]).toBe(24);
    expect(seen[0]).toBeGreaterThan(0);
    expect(seen[1]).toBeGreaterThan(0);
    expect(new Set(answers)).toEqual(new Set(['0', '1']));
  });

  it('without reusePort a second server on a taken port fails to listen', async () => {
    const first = await start({ handler: () => {} });
    await expect(start({ port: first.port, handler: () => {} })).rejects.toThrow();
  });

  it('refuses a reusePort that is not a boolean', async () => {
    await expect(serve({ reusePort: 'yes' } as unknown as Options)).rejects.toThrow(/option "reusePort" must be a boolean/);
    await expect(serve({ reusePrt: true } as unknown as Options)).rejects.toThrow(/did you mean "reusePort"/);
  });
});
