/**
 * A small HTTP CONNECT proxy for tests: one tunnel per conn, optional Basic credentials,
 * and a record of what it was asked.
 * @module
 */
import { RawReader, send } from './raw.ts';

/** Options of {@link startProxy}. */
export interface ProxyOptions {
  /** Require `Proxy-Authorization: Basic base64(user:pass)` with this `user:pass`. */
  credentials?: string;
  /** Send these bytes right after the 200 (a misbehaving proxy). */
  trailing?: string;
}

/** A running test proxy. */
export interface TestProxy {
  port: number;
  url: string;
  /** The request heads received, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Starts a CONNECT proxy on 127.0.0.1. */
export function startProxy(options: ProxyOptions = {}): TestProxy {
  const listener = Deno.listen({ hostname: '127.0.0.1', port: 0 });
  const requests: string[] = [];
  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  const handle = async (conn: Deno.Conn): Promise<void> => {
    open.add(conn);
    try {
      const reader = new RawReader(conn);
      const head = await reader.head();
      requests.push(head);
      const [method, target] = head.split(' ');
      if (options.credentials !== undefined) {
        const expected = `Basic ${btoa(options.credentials)}`;
        const given = /\r\nproxy-authorization:\s*([^\r]*)/i.exec(head)?.[1];
        if (given !== expected) {
          await send(conn, 'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n');
          return;
        }
      }
      if (method !== 'CONNECT') {
        await send(conn, 'HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      const colon = target.lastIndexOf(':');
      const upstream = await Deno.connect({ hostname: target.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(target.slice(colon + 1)) });
      open.add(upstream);
      await send(conn, `HTTP/1.1 200 Connection Established\r\n\r\n${options.trailing ?? ''}`);
      await Promise.allSettled([conn.readable.pipeTo(upstream.writable), upstream.readable.pipeTo(conn.writable)]);
    } catch {
      /* a side went away */
    } finally {
      for (const c of [conn]) {
        try {
          c.close();
        } catch {
          /* closed */
        }
      }
    }
  };
  const accepting = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      const task = handle(conn);
      tasks.add(task);
      void task.finally(() => tasks.delete(task));
    }
  })();
  const port = (listener.addr as Deno.NetAddr).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch {
          /* closed */
        }
      }
      await accepting;
      await Promise.allSettled([...tasks]);
    },
  };
}
