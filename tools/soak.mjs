#!/usr/bin/env node
/**
 * Soak and slow-consumer runs against wsflow's server on Node, Deno or Bun, over loopback.
 *
 * ```sh
 * npm run build
 * npm run soak -- --runtime node --connections 10000 --duration 300 --rate 2000
 * npm run soak -- --runtime deno --slow-consumer
 * ```
 *
 * Soak: the server (tools/soak/server.ts) runs in its own process; load-generator
 * processes (tools/soak/load_worker.ts) hold `--connections` raw-socket connections and
 * send `--rate` checksummed messages a second between them for `--duration` seconds; every
 * echo is verified. The server's RSS (from /proc) is printed every `--sample` seconds. The
 * verdict: every connection held, every message echoed intact, and no RSS growth: the mean
 * RSS over the last third of the time after the warm-up at most 10% above the mean over the
 * first third (RSS at the warm-up's end and at the end are printed too). Exit 0 on PASS, 1
 * on FAIL, 2 for a bad command line.
 *
 * Slow consumer (`--slow-consumer`): the server sends 1 GiB (through `writable`, then with
 * `send()` guarded by `bufferedAmount`) to a client that never reads; its RSS growth must
 * stay under 64 MiB, another client must get its echo meanwhile, and dropping the client
 * must close the server's connection.
 */
import { parseArgs } from 'node:util';
import { RUNTIMES, ServerProcess } from './soak/server_process.ts';
import { runSlowConsumer } from './soak/slow_consumer.ts';
import { runSoak } from './soak/soak_run.ts';
import { mib } from './soak/wire.ts';

/** The slow consumer's bound on server RSS growth. */
const SLOW_CONSUMER_RSS_BOUND = 64 * 1024 * 1024;

const USAGE = `usage: node tools/soak.mjs --runtime node|deno|bun [--connections 10000] [--duration 300] [--rate 2000]
                          [--warmup S] [--sample 5] [--max-size 1024] [--json]
       node tools/soak.mjs --runtime node|deno|bun --slow-consumer [--bytes 1073741824] [--json]
`;

function fail(message) {
  process.stderr.write(`soak: ${message}\n\n${USAGE}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      runtime: { type: 'string', default: 'node' },
      connections: { type: 'string', default: '10000' },
      duration: { type: 'string', default: '300' },
      rate: { type: 'string', default: '2000' },
      warmup: { type: 'string' },
      sample: { type: 'string', default: '5' },
      'max-size': { type: 'string', default: '1024' },
      'slow-consumer': { type: 'boolean', default: false },
      bytes: { type: 'string', default: String(2 ** 30) },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  }));
} catch (error) {
  fail(error.message);
}
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
if (!RUNTIMES.includes(values.runtime)) fail(`--runtime must be one of ${RUNTIMES.join(', ')}`);
const number = (name, min, max) => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n < min || n > max) fail(`--${name} must be a number from ${min} to ${max}`);
  return n;
};

if (values['slow-consumer']) {
  const bytes = number('bytes', 1, 2 ** 40);
  let ok = true;
  const results = [];
  for (const mode of ['writable', 'send']) {
    const server = await ServerProcess.start(values.runtime);
    try {
      const r = await runSlowConsumer(server, { mode, bytes });
      results.push(r);
      const growth = r.rssPeak - r.rssBefore;
      const pass = r.stalled && growth < SLOW_CONSUMER_RSS_BOUND && r.echo.ok && r.closeCode !== null && r.loopEnded;
      ok &&= pass;
      if (!values.json) {
        console.log(
          `${r.runtime} ${mode.padEnd(8)}: asked ${mib(r.attempted)} MiB, accepted ${mib(r.accepted)} MiB, buffered ${mib(r.buffered)} MiB, ` +
            `handed to the socket ${mib(r.handed)} MiB; RSS ${mib(r.rssBefore)} -> peak ${mib(r.rssPeak)} -> after ${mib(r.rssAfter)} MiB ` +
            `(growth ${mib(growth)} MiB, bound ${mib(SLOW_CONSUMER_RSS_BOUND)}); echo meanwhile ${r.echo.ok ? `ok in ${r.echo.ms} ms` : `FAILED ${r.echo.error}`}; ` +
            `closed ${r.closeCode} in ${r.closeMs} ms -> ${pass ? 'PASS' : 'FAIL'}`,
        );
      }
    } finally {
      await server.stop();
    }
  }
  if (values.json) console.log(JSON.stringify(results));
  process.exit(ok ? 0 : 1);
}

const result = await runSoak({
  runtime: values.runtime,
  connections: number('connections', 1, 100_000),
  duration: number('duration', 1, 86_400),
  rate: number('rate', 1, 1_000_000),
  ...(values.warmup === undefined ? {} : { warmup: number('warmup', 0, 86_400) }),
  sample: number('sample', 1, 3600),
  maxSize: number('max-size', 16, 16 * 1024 * 1024),
  log: values.json ? undefined : (line) => console.log(line),
});
if (values.json) console.log(JSON.stringify(result));
else if (result.errors.length > 0) console.log(`first errors:\n  ${result.errors.join('\n  ')}`);
process.exit(result.intact && result.flat && result.serverAlive ? 0 : 1);
