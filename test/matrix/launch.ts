/**
 * How the runners start the matrix's processes: each server kind once per test file, each
 * client driver process once per client kind, all from node_modules' runtimes and offline
 * (Deno `--no-lock --no-remote`, Bun `--no-install`).
 * @module
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerHandle } from './behaviours.ts';
import type { MatrixCert } from './cert.ts';
import type { ServerKind } from './peers.ts';
import { LineProcess, type Launch } from './processes.ts';
import type { ServerRecord } from './protocol.ts';

/** The repository root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const bin = (name: string): string => join(ROOT, 'node_modules/.bin', name);
/** Node 24 from node_modules (it runs the server's TypeScript as is), else this Node. */
const NODE = existsSync(bin('node')) ? bin('node') : process.execPath;
const DENO = [bin('deno'), 'run', '-A', '--no-lock', '--no-remote'];
const BUN = [bin('bun'), 'run', '--no-install'];
const SERVER = 'test/matrix/servers/server_main.ts';
const JS_DRIVER = 'test/matrix/drivers/js_driver.ts';
const PYTHON_DRIVER = 'test/matrix/drivers/python_driver.py';
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

function launch(argv: string[], env?: Record<string, string>): Launch {
  return { command: argv[0], args: argv.slice(1), ...(env === undefined ? {} : { env }) };
}

/** The command line of a server kind. */
function serverLaunch(id: string, cert: MatrixCert, origins: readonly string[]): Launch {
  const args = ['--cert', cert.certFile, '--key', cert.keyFile, '--origins', origins.join(',')];
  switch (id) {
    case 'wsflow-node':
      return launch([NODE, SERVER, '--impl', 'wsflow', ...args]);
    case 'wsflow-deno':
      return launch([...DENO, SERVER, '--impl', 'wsflow', ...args]);
    case 'wsflow-bun':
      return launch([...BUN, SERVER, '--impl', 'wsflow', ...args]);
    case 'deno-serve':
      return launch([...DENO, SERVER, '--impl', 'native', ...args]);
    case 'bun-serve':
      return launch([...BUN, SERVER, '--impl', 'native', ...args]);
  }
  throw new Error(`no server kind ${id}`);
}

/** The command line of a client driver process (clients not listed here run in process). */
export function clientLaunch(id: string, cert: MatrixCert): Launch {
  switch (id) {
    case 'wsflow-deno':
      return launch([...DENO, JS_DRIVER, 'wsflow']);
    case 'wsflow-bun':
      return launch([...BUN, JS_DRIVER, 'wsflow']);
    case 'deno-native':
      // Deno's WebSocket trusts extra CAs only through DENO_CERT (or --cert).
      return launch([...DENO, JS_DRIVER, 'native'], { DENO_CERT: cert.caFile });
    case 'bun-native':
      return launch([...BUN, JS_DRIVER, 'native']);
    case 'python':
      return launch([PYTHON, PYTHON_DRIVER]);
  }
  throw new Error(`no client driver process for ${id}`);
}

/** A started server process. */
export interface RunningServer extends ServerHandle {
  process: LineProcess;
  runtime: string;
}

/** Starts a server kind and waits for its ready line. */
export async function startServer(kind: ServerKind, cert: MatrixCert, origins: readonly string[]): Promise<RunningServer> {
  const process = new LineProcess(`${kind.id} server`, serverLaunch(kind.id, cert, origins), ROOT);
  const ready = await process.ready;
  return {
    kind,
    process,
    runtime: ready.runtime,
    port: ready.port!,
    tlsPort: ready.tlsPort!,
    events: async (tag) => (await process.request<{ record: ServerRecord | null }>({ op: 'events', tag }, 5000)).record,
  };
}

/** Starts a client driver process and waits for its ready line. */
export async function startClientProcess(id: string, cert: MatrixCert): Promise<LineProcess> {
  const process = new LineProcess(`${id} client`, clientLaunch(id, cert), ROOT);
  await process.ready;
  return process;
}
