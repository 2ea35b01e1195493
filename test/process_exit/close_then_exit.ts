/**
 * A script that ends with `await server.close()` while its one connection cannot finish
 * the closing handshake: the handler never reads its `readable`, so once the peer has
 * sent enough the socket is paused, and the peer sends no Close either. Run by
 * close_keeps_process.test.ts under Node, Deno or Bun:
 *
 *   <runtime> test/process_exit/close_then_exit.ts
 *
 * Prints `port <n>` once listening, `closing` when the peer's data has filled the
 * connection, `closed <ms>` once `close()` resolved. Exits 0 then; a runtime that let the
 * script end with `close()` pending exits otherwise (Node: 13) without `closed`.
 * @module
 */
export {};

type Serve = (options: Record<string, unknown>) => Promise<{ port: number; close(): Promise<void> }>;

const runtime = 'Deno' in globalThis ? 'deno' : 'Bun' in globalThis ? 'bun' : 'node';
const { serve } = (await import(`@wsflow/${runtime}`)) as { serve: Serve };

let connected!: () => void;
const connection = new Promise<void>((resolve) => (connected = resolve));
const server = await serve({
  host: '127.0.0.1',
  port: 0,
  closeTimeout: 300,
  handler(conn: { readable: unknown }) {
    void conn.readable; // messages go to a stream nobody reads: reading pauses once it is full
    connected();
  },
});
console.log(`port ${server.port}`);
await connection;
// Time for the peer's megabytes to arrive and pause the socket.
await new Promise((resolve) => setTimeout(resolve, 500));
console.log('closing');
const started = Date.now();
await server.close();
console.log(`closed ${Date.now() - started}`);
