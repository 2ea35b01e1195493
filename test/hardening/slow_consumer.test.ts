// Slow consumer, on each runtime's server in its own process: asked to send 1 GiB to a
// client that completed the handshake and then never reads, the server stops at its
// high-water mark (its RSS grows by less than 64 MiB), still echoes for another client,
// and closes the connection when the slow client goes away.
import { describe, expect, it } from 'vitest';
import { RUNTIMES, ServerProcess } from '../../tools/soak/server_process.ts';
import { runSlowConsumer, type FloodMode } from '../../tools/soak/slow_consumer.ts';
import { mib } from '../../tools/soak/wire.ts';

const GiB = 2 ** 30;
/** The bound on the server's RSS growth while it has 1 GiB to send to a client that does not read. */
const RSS_GROWTH_BOUND = 64 * 1024 * 1024;
/** What the server may queue at the stall: its 1 MiB high-water mark plus one 64 KiB message. */
const QUEUE_BOUND = 1024 * 1024 + 65536 + 16;

const modes: FloodMode[] = ['writable', 'send'];

describe.each(RUNTIMES)('slow consumer on the %s server', (runtime) => {
  it.each(modes)(
    'sending 1 GiB through %s to a client that never reads stalls under the RSS bound, keeps echoing, and closes when the client goes',
    async (mode) => {
      const server = await ServerProcess.start(runtime);
      try {
        const r = await runSlowConsumer(server, { mode, bytes: GiB });
        const growth = r.rssPeak - r.rssBefore;
        console.log(
          `slow consumer ${runtime} ${mode}: asked ${mib(r.attempted)} MiB, accepted ${mib(r.accepted)} MiB, buffered ${mib(r.buffered)} MiB, ` +
            `handed to the socket ${mib(r.handed)} MiB; RSS ${mib(r.rssBefore)} -> peak ${mib(r.rssPeak)} -> after ${mib(r.rssAfter)} MiB; ` +
            `echo ${r.echo.ok ? `${r.echo.ms} ms` : r.echo.error}; closed ${r.closeCode} in ${r.closeMs} ms`,
        );
        // Backpressure held: the flood stalled far short of 1 GiB, with at most the high-water mark queued.
        expect(r.stalled).toBe(true);
        expect(r.accepted).toBeLessThan(r.attempted / 8);
        expect(r.buffered).toBeLessThanOrEqual(QUEUE_BOUND);
        expect(r.handed).toBeGreaterThan(0);
        expect(growth).toBeLessThan(RSS_GROWTH_BOUND);
        // Still serving others.
        expect(r.echo).toMatchObject({ ok: true });
        // The dropped client closes the server's connection (1006: no Close frame) and ends the sending loop.
        expect(r.closeCode).toBe(1006);
        expect(r.loopEnded).toBe(true);
        expect(server.alive).toBe(true);
        expect((await server.stats()).open).toBe(0);
      } finally {
        await server.stop();
      }
    },
    60_000,
  );
});
