// Socket fuzzing's short version, on each runtime's server in its own process: a few
// thousand mutated handshakes and frame streams (deterministic from the seed), each over a
// fresh TCP connection with a hard deadline. Nothing may crash or hang: the server stays
// up and echoes for a control client after every batch, every input ends within its
// deadline, valid inputs are echoed exactly, the server never sends a malformed answer,
// every connection is closed afterwards (and none reached its handler already closed), and
// RSS stays within its bound. The server has wsflow's default limits (16 MiB messages) and
// permessage-deflate; some inputs offer it, send compressed messages, corrupt DEFLATE data
// or deflate bombs (65 KB inflating to 64 MiB).
// The long version: `npm run fuzz:sockets -- --runtime node --duration 120 --seed 1`.
import { describe, expect, it } from 'vitest';
import { runFuzz } from '../../tools/fuzz/fuzz_run.ts';
import { RUNTIMES } from '../../tools/soak/server_process.ts';

const SEED = Number(process.env.FUZZ_SEED ?? 6455);
const TIMEOUT_MS = 2000;

describe.each(RUNTIMES)('socket fuzzing (short) on the %s server', (runtime) => {
  it(`survives mutated handshakes and frame streams from seed ${SEED}`, async () => {
    const lines: string[] = [];
    const r = await runFuzz({ runtime, seed: SEED, duration: 8, maxInputs: 4000, batch: 400, timeoutMs: TIMEOUT_MS, log: (line) => lines.push(line) });
    console.log(lines.filter((line) => / inputs \(|deflate-bomb alone/.test(line)).join('\n'));
    expect(r.failures).toEqual([]);
    expect(r.inputs).toBeGreaterThanOrEqual(1200);
    expect(r.validInputs).toBeGreaterThan(0);
    expect(r.echoedInputs).toBeGreaterThan(0);
    // Several kinds of answer: refusals, Close codes, echoes.
    expect(Object.keys(r.outcomes).some((k) => k.startsWith('http-4'))).toBe(true);
    expect(r.outcomes['closed-1002']).toBeGreaterThan(0);
    expect(r.outcomes['closed-1007']).toBeGreaterThan(0);
    // Every input ended by its deadline (with slack for timers on a busy machine).
    expect(r.maxInputMs).toBeLessThanOrEqual(TIMEOUT_MS + 3000);
    expect(r.serverAlive).toBe(true);
    expect(r.controlFailures).toBe(0);
    expect(r.serverOpenAfter).toBe(0);
    expect(r.serverClosedAtHandler).toBe(0);
    // permessage-deflate was exercised: bombs were stopped at the message limit.
    expect(r.outcomesByMutation['frame:deflate-bomb']?.['closed-1009']).toBeGreaterThan(0);
    expect(r.rssBounded).toBe(true);
  }, 90_000);
});
