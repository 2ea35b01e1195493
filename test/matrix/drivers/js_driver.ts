/**
 * A client driver process for Deno and Bun (and Node): reads driver commands
 * (protocol.ts), one JSON object per line, on stdin and answers on stdout.
 *
 * ```sh
 * deno run -A --no-lock --no-remote test/matrix/drivers/js_driver.ts wsflow|native
 * bun run --no-install test/matrix/drivers/js_driver.ts wsflow|native
 * ```
 *
 * `wsflow`: the runtime's wsflow shim (`@wsflow/deno`, `@wsflow/bun`, `@wsflow/node`).
 * `native`: the runtime's built-in `WebSocket`. Deno trusts a wss CA through `DENO_CERT`
 * (set by whoever starts it); Bun's takes `tls: { ca }`.
 * @module
 */
import { createInterface } from 'node:readline';
import process from 'node:process';
import { DriverCore, HandshakeRefused, type ClientAdapter } from '../driver_core.ts';
import type { ClientCommand } from '../protocol.ts';
import { runtimeName, runtimeVersion } from '../runtime.ts';
import { whatwgAdapter } from '../whatwg_adapter.ts';
import { wsflowAdapter, type WsflowConnect } from '../wsflow_adapter.ts';

const kind = process.argv[process.argv.length - 1];
const runtime = runtimeName();

async function adapterFor(): Promise<ClientAdapter> {
  if (kind === 'wsflow') {
    const specifier = `@wsflow/${runtime}`;
    const shim = (await import(specifier)) as { connect: WsflowConnect['connect'] };
    return wsflowAdapter({ connect: shim.connect, trust: (ca) => ({ ca }) });
  }
  if (kind === 'native' && runtime !== 'node') {
    return whatwgAdapter(globalThis.WebSocket, {
      // Deno and Bun take `{ protocols, headers }`; Bun also `tls`.
      init: (o) => ({
        protocols: o.protocols,
        ...(o.origin === undefined ? {} : { headers: { origin: o.origin } }),
        ...(runtime === 'bun' && o.ca !== undefined ? { tls: { ca: o.ca } } : {}),
      }),
      ping: runtime === 'bun',
    });
  }
  throw new Error(`usage: js_driver.ts wsflow|native (native on deno or bun), not ${kind} on ${runtime}`);
}

const core = new DriverCore(await adapterFor());
const write = (answer: unknown): void => void process.stdout.write(`${JSON.stringify(answer)}\n`);
write({ ready: true, runtime: runtimeVersion() });

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
let exiting = false;
lines.on('line', (line) => {
  if (line.trim() === '') return;
  let command: ClientCommand & { id: number };
  try {
    command = JSON.parse(line);
  } catch {
    write({ id: -1, ok: false, error: `not JSON: ${line.slice(0, 200)}` });
    return;
  }
  core.handle(command).then(
    (result) => {
      write({ id: command.id, ok: true, ...result });
      if (command.op === 'exit') {
        exiting = true;
        setTimeout(() => process.exit(0), 50);
      }
    },
    (error: unknown) => {
      const status = error instanceof HandshakeRefused ? error.status : undefined;
      write({ id: command.id, ok: false, error: String((error as Error)?.message ?? error), ...(status === undefined ? {} : { status }) });
    },
  );
});
// stdin closed (the runner went away): leave.
lines.on('close', () => {
  if (!exiting) setTimeout(() => process.exit(0), 50);
});
