#!/usr/bin/env node
// `npm start`: the main job. On a fresh clone it first installs the devDependencies
// (which bring Node 24) and builds the packages, then runs the demo server with Node 24:
// one page, served by the same server, with a chat/echo over the browser's native
// WebSocket and the frames shown as they pass. Extra arguments go to the demo
// (e.g. `npm start -- --port 9000`).
import { spawnSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' };
const node24 = join(root, 'node_modules/.bin/node');

function step(command, args) {
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (!existsSync(node24)) step('npm', ['ci', '--no-audit', '--no-fund']);
if (!existsSync(join(root, 'packages/node/dist/index.js'))) step('npm', ['run', 'build']);

const child = spawn(node24, [join(root, 'demo/server.ts'), ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', env });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
