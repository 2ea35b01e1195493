// Spawning the Python `websockets` peer (peers/py_peer.py) and reading its JSON-line reports.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { PeerEvents } from './peer_events.ts';

const SCRIPT = fileURLToPath(new URL('../peers/py_peer.py', import.meta.url));

/** A Python 3 with `websockets` importable: $WSFLOW_PYTHON, python3 on PATH, or Debian's. */
export const python: string | null = (() => {
  const candidates = [process.env.WSFLOW_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ['-c', 'import websockets'], { stdio: 'ignore', timeout: 10_000 });
    if (probe.status === 0) return candidate;
  }
  return null;
})();

export class PythonPeer {
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  stderr = '';

  private constructor(child: ChildProcess, events: PeerEvents) {
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      this.stderr = (this.stderr + text).slice(-4000);
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let record: { id: string | null; event: string };
      try {
        record = JSON.parse(line) as { id: string | null; event: string };
      } catch {
        return;
      }
      events.emit(record.id, record.event, record);
    });
  }

  /** Starts `py_peer.py <args>`; for a server, resolves once it reports its port. */
  static async start(args: string[], events: PeerEvents): Promise<{ peer: PythonPeer; port: number | null }> {
    if (python === null) throw new Error('no Python with websockets');
    const child = spawn(python, ['-u', SCRIPT, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const peer = new PythonPeer(child, events);
    if (args[0] !== 'server') return { peer, port: null };
    const listening = events.next(null as unknown as string, 'listening', 15_000);
    const failed = peer.#exited.then(() => {
      throw new Error(`py_peer.py exited early: ${peer.stderr}`);
    });
    const record = await Promise.race([listening, failed]);
    return { peer, port: Number(record.port) };
  }

  send(command: Record<string, unknown>): void {
    this.#child.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  /** Closes stdin (the script then exits); kills it by pid if it lingers. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    this.#child.stdin!.end();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 3000);
    await this.#exited;
    clearTimeout(timer);
  }
}
