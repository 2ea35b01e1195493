// The soak's short version, on each runtime's server in its own process: 1,000 raw-socket
// connections from a load-generator process, ~8 s of checksummed echo traffic (text and
// binary, some fragmented, Pings between), then a clean close of every connection. Every
// message must come back intact and in order and no connection may be lost. RSS is
// reported, not asserted (the long run, `npm run soak`, judges flatness over minutes).
import { describe, expect, it } from 'vitest';
import { RUNTIMES } from '../../tools/soak/server_process.ts';
import { runSoak } from '../../tools/soak/soak_run.ts';

const CONNECTIONS = 1000;

describe.each(RUNTIMES)('soak (short) on the %s server', (runtime) => {
  it(`holds ${CONNECTIONS} connections with echo traffic: every message echoed intact, none lost, all closed cleanly`, async () => {
    const lines: string[] = [];
    const r = await runSoak({ runtime, connections: CONNECTIONS, duration: 8, rate: 1000, warmup: 2, sample: 2, log: (line) => lines.push(line) });
    console.log(lines.filter((line) => line.startsWith(`${runtime}:`)).join('\n'));
    expect(r.errors).toEqual([]);
    expect(r.opened).toBe(CONNECTIONS);
    expect(r.held).toBe(CONNECTIONS);
    expect(r.lost).toBe(0);
    expect(r.sent).toBeGreaterThan(2000);
    expect(r.echoed).toBe(r.sent);
    expect(r.corrupt).toBe(0);
    expect(r.missing).toBe(0);
    expect(r.pongs).toBe(r.pings);
    expect(r.badPongs).toBe(0);
    expect(r.cleanClosed).toBe(CONNECTIONS);
    expect(r.serverOpenAfter).toBe(0);
    expect(r.serverAlive).toBe(true);
  }, 120_000);
});
