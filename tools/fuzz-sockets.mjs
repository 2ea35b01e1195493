#!/usr/bin/env node
/**
 * Fuzzes wsflow's server on Node, Deno or Bun over real sockets, on loopback.
 *
 * ```sh
 * npm run build
 * npm run fuzz:sockets -- --runtime node --duration 120 --seed 1
 * npm run fuzz:sockets -- --runtime bun --seed 1 --replay 4711     # one input again, with its bytes
 * ```
 *
 * Input i of a seed is always the same: a valid opening handshake and frame stream
 * (tools/fuzz/generate.ts), mutated (tools/fuzz/mutate.ts: bit flips, truncation, splicing,
 * length lies, oversized lengths, bad opcodes, RSV bits, unmasked frames, invalid UTF-8,
 * bad Close payloads, broken fragmentation, header injection, bad request lines, huge
 * heads, …) and split across writes at random. Each goes over a fresh TCP connection to the
 * server (tools/soak/server.ts, an echo server in its own process, with wsflow's default limits
 * or with `--limits echo` the echo tool's 64 MiB ones) with a hard deadline.
 * After each batch the server must be alive and echo for a control client; its RSS is
 * sampled; at the end every connection must be closed. Outcomes are counted by kind.
 * Exit 0 when nothing crashed, hung, leaked or misbehaved; 1 otherwise; 2 for a bad
 * command line.
 */
import { parseArgs } from 'node:util';
import { runFuzz } from './fuzz/fuzz_run.ts';
import { makeInput } from './fuzz/mutate.ts';
import { runInput } from './fuzz/run_input.ts';
import { RUNTIMES, ServerProcess } from './soak/server_process.ts';

const USAGE = `usage: node tools/fuzz-sockets.mjs --runtime node|deno|bun [--duration 120] [--seed 1] [--max-inputs N]
                                  [--concurrency 48] [--timeout 2000] [--limits default|echo] [--json]
       node tools/fuzz-sockets.mjs --runtime node|deno|bun --seed S --replay INDEX
`;

function fail(message) {
  process.stderr.write(`fuzz-sockets: ${message}\n\n${USAGE}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      runtime: { type: 'string', default: 'node' },
      duration: { type: 'string', default: '120' },
      seed: { type: 'string', default: '1' },
      'max-inputs': { type: 'string' },
      concurrency: { type: 'string', default: '48' },
      timeout: { type: 'string', default: '2000' },
      limits: { type: 'string', default: 'default' },
      replay: { type: 'string' },
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
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${name} must be an integer from ${min} to ${max}`);
  return n;
};
const seed = number('seed', 0, 2 ** 32 - 1);
if (values.limits !== 'default' && values.limits !== 'echo') fail('--limits must be default (16 MiB messages) or echo (64 MiB)');

if (values.replay !== undefined) {
  const index = number('replay', 0, 2 ** 31);
  const server = await ServerProcess.start(values.runtime, { limits: values.limits });
  try {
    const input = makeInput(seed, index, { authority: `127.0.0.1:${server.port}` });
    console.log(`input ${index} of seed ${seed}: mutations ${JSON.stringify(input.mutations)}, ${input.bytes.length} octets in ${input.writes.length} writes`);
    console.log(Buffer.from(input.bytes).toString('hex').slice(0, 4096) + (input.bytes.length > 2048 ? '…' : ''));
    const outcome = await runInput(server.port, input, { timeoutMs: number('timeout', 100, 600_000), quietMs: 250 });
    console.log(`outcome: ${JSON.stringify(outcome)}; server ${server.alive ? 'alive' : server.exitStatus}`);
    if (server.stderr) console.log(`server stderr:\n${server.stderr}`);
  } finally {
    await server.stop();
  }
  process.exit(0);
}

const result = await runFuzz({
  runtime: values.runtime,
  duration: number('duration', 1, 86_400),
  seed,
  limits: values.limits,
  ...(values['max-inputs'] === undefined ? {} : { maxInputs: number('max-inputs', 1, 1e9) }),
  concurrency: number('concurrency', 1, 1000),
  timeoutMs: number('timeout', 100, 600_000),
  log: values.json ? undefined : (line) => console.log(line),
});
if (values.json) console.log(JSON.stringify(result));
else {
  for (const f of result.failures.slice(0, 20)) console.log(`problem: input ${f.index} ${JSON.stringify(f.mutations)} ${f.kind}: ${f.detail}`);
  console.log(`verdict: ${result.failures.length === 0 ? 'PASS' : 'FAIL'} (${result.inputs} inputs tried)`);
}
process.exit(result.failures.length === 0 ? 0 : 1);
