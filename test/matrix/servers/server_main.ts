/**
 * A matrix server process: serves the behaviour paths (server_behaviour.ts) on a `ws://`
 * and a `wss://` port of 127.0.0.1, prints its ready line (protocol.ts `ReadyLine`, with
 * both ports) and then answers `events` / `exit` commands on stdin, one JSON line each.
 *
 * ```sh
 * node     test/matrix/servers/server_main.ts --impl wsflow --cert C --key K [--origins a,b]
 * deno run -A --no-lock --no-remote test/matrix/servers/server_main.ts --impl wsflow|native ...
 * bun run --no-install test/matrix/servers/server_main.ts --impl wsflow|native ...
 * ```
 *
 * `wsflow`: wsflow's `serve` of the runtime it runs in. `native`: `Deno.serve` or `Bun.serve`.
 * It exits when stdin closes (the runner went away) or on `exit`.
 * @module
 */
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { createInterface } from 'node:readline';
import type { ServerCommand } from '../protocol.ts';
import { runtimeName, runtimeVersion } from '../runtime.ts';
import { Recorder, type BehaviourSettings } from './server_behaviour.ts';

function arg(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? undefined : process.argv[at + 1];
}

const impl = arg('impl') ?? 'wsflow';
const certFile = arg('cert');
const keyFile = arg('key');
if (certFile === undefined || keyFile === undefined) throw new Error('usage: server_main.ts --impl wsflow|native --cert FILE --key FILE [--origins a,b]');
const tls = { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
const settings: BehaviourSettings = { origins: (arg('origins') ?? '').split(',').filter(Boolean) };
const recorder = new Recorder();
const runtime = runtimeName();

async function start(): Promise<{ port: number; tlsPort: number; close(): Promise<void> }> {
  if (impl === 'wsflow') return (await import('./wsflow_server.ts')).startWsflowServers(runtime, settings, recorder, tls);
  if (impl === 'native' && runtime === 'deno') return (await import('./deno_native_server.ts')).startDenoNativeServers(settings, recorder, tls);
  if (impl === 'native' && runtime === 'bun') return (await import('./bun_native_server.ts')).startBunNativeServers(settings, recorder, tls);
  throw new Error(`no ${impl} server on ${runtime}`);
}

const servers = await start();
const write = (line: unknown): void => void process.stdout.write(`${JSON.stringify(line)}\n`);
write({ ready: true, runtime: runtimeVersion(), port: servers.port, tlsPort: servers.tlsPort });

let exiting = false;
const exit = (): void => {
  if (exiting) return;
  exiting = true;
  // Leave even if a connection lingers: the runner is done with us.
  const timer = setTimeout(() => process.exit(0), 2000);
  void servers.close().finally(() => {
    clearTimeout(timer);
    process.exit(0);
  });
};

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  if (line.trim() === '') return;
  let command: ServerCommand & { id: number };
  try {
    command = JSON.parse(line);
  } catch {
    write({ id: -1, ok: false, error: `not JSON: ${line.slice(0, 200)}` });
    return;
  }
  if (command.op === 'events') write({ id: command.id, ok: true, record: recorder.peek(command.tag) });
  else if (command.op === 'exit') {
    write({ id: command.id, ok: true });
    exit();
  } else write({ id: (command as { id: number }).id, ok: false, error: `unknown op ${(command as { op: string }).op}` });
});
lines.on('close', exit);
