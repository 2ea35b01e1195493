// The server side of bench/fanout/memory.mjs, on Node, Deno or Bun (it picks the runtime's
// wsflow shim): a `serve` on 127.0.0.1, port 0, keeping every connection. It prints one
// JSON line { ready, port, pid, runtime } and then answers one JSON line per command line
// on stdin: `count`, `measure` (full GCs until the heap settles, then memory), `subscribe
// shared|distinct T`, `unsubscribe`, `close`.
//
//   node --expose-gc bench/fanout/memory_server.ts
//   deno run -A --v8-flags=--expose-gc bench/fanout/memory_server.ts
//   bun run bench/fanout/memory_server.ts
//
// (It only uses what the three shims share: `serve`, and the connections' topic methods.)
interface Conn {
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  readonly topics: Iterable<string>;
}
interface Shim {
  serve(options: { port: number; host: string; handler: (connection: Conn) => void }): Promise<{ port: number; close(): Promise<void> }>;
}
const g = globalThis as unknown as { Deno?: unknown; Bun?: { gc(force: boolean): void }; gc?: () => void };
const runtime = g.Bun !== undefined ? 'bun' : g.Deno !== undefined ? 'deno' : 'node';
const here = new URL('../../', import.meta.url);
const shim = (runtime === 'node' ? await import('@wsflow/node') : await import(new URL(`packages/${runtime}/src/index.ts`, here).href)) as unknown as Shim;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const collect = (): void => {
  if (g.Bun !== undefined) g.Bun.gc(true);
  else if (typeof g.gc === 'function') g.gc();
  else throw new Error('no gc(): run Node with --expose-gc, Deno with --v8-flags=--expose-gc');
};

const connections: Conn[] = [];
const server = await shim.serve({ port: 0, host: '127.0.0.1', handler: (c) => void connections.push(c) });

async function measure() {
  let last = Infinity;
  for (let i = 0; i < 10; i++) {
    collect();
    await sleep(20);
    const used = process.memoryUsage().heapUsed;
    if (last - used < 64 * 1024) break;
    last = used;
  }
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, external: m.external, rss: m.rss, connections: connections.length };
}

async function answer(line: string): Promise<object> {
  const [op, layout, count] = line.trim().split(' ');
  if (op === 'count') return { connections: connections.length };
  if (op === 'measure') return measure();
  if (op === 'subscribe') {
    if (typeof connections[0]?.subscribe !== 'function') throw new Error(`this wsflow shim (${runtime}) has no topics (connection.subscribe is missing)`);
    const topics = Number(count);
    connections.forEach((c, i) => {
      for (let t = 0; t < topics; t++) c.subscribe(layout === 'shared' ? `topic-${t}` : `conn-${i}-topic-${t}`);
    });
    return { subscriptions: connections.length * topics };
  }
  if (op === 'unsubscribe') {
    for (const c of connections) for (const topic of [...c.topics]) c.unsubscribe(topic);
    return {};
  }
  if (op === 'close') {
    await server.close();
    setTimeout(() => process.exit(0), 10);
    return {};
  }
  throw new Error(`unknown command ${JSON.stringify(line)}`);
}

let buffered = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (text: string) => {
  buffered += text;
  let at: number;
  while ((at = buffered.indexOf('\n')) >= 0) {
    const line = buffered.slice(0, at);
    buffered = buffered.slice(at + 1);
    answer(line).then(
      (result) => process.stdout.write(`${JSON.stringify({ result })}\n`),
      (error: unknown) => process.stdout.write(`${JSON.stringify({ error: String((error as Error)?.message ?? error) })}\n`),
    );
  }
});
process.stdin.on('end', () => process.exit(0));
process.stdout.write(`${JSON.stringify({ ready: true, port: server.port, pid: process.pid, runtime })}\n`);
