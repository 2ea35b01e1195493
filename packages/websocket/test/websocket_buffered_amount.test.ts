// WebSocket#bufferedAmount against a transport the test controls: "the number of bytes of
// application data (UTF-8 text and binary data) that have been queued using send() but, as
// of the last time the event loop reached step 1, had not yet been transmitted to the
// network". So it counts what send() was given (not frames, not compressed bytes), grows
// in send(), and shrinks only in a later task — even when the transport sends at once.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketConnection, type ByteTransport } from '@wsflow/codec';
import { createWebSocketClass, flushNetwork } from '../src/index.ts';
import { nextEvent } from './helpers.ts';

/** A transport whose queue the test sets: `queued` is what it reports as not yet sent. */
class ControlledTransport implements ByteTransport {
  queued = 0;
  written = 0;
  write(chunk: Uint8Array): void {
    this.written += chunk.byteLength;
  }
  end(): void {}
  destroy(): void {}
  pause(): void {}
  resume(): void {}
  get bufferedAmount(): number {
    return this.queued;
  }
}

const opened: WebSocketConnection[] = [];
afterEach(() => {
  for (const conn of opened.splice(0)) conn.transportClosed();
});

/** A WebSocket class whose connections run over a new {@link ControlledTransport}. */
function controlled(): { WS: ReturnType<typeof createWebSocketClass>; transport: ControlledTransport; conn: () => WebSocketConnection } {
  const transport = new ControlledTransport();
  let connection: WebSocketConnection | null = null;
  const WS = createWebSocketClass({
    dialer: async () => {
      connection = new WebSocketConnection(transport, { role: 'client' });
      opened.push(connection);
      return connection;
    },
  });
  return { WS, transport, conn: () => connection! };
}

/** Lets queued tasks run (the facade's tasks are promise jobs; one macrotask is plenty). */
async function laterTask(): Promise<void> {
  await flushNetwork();
}

describe('WebSocket: bufferedAmount counts application bytes and shrinks in a later task', () => {
  it('keeps the bytes of a send counted in its task when the transport sent them at once', async () => {
    const { WS, transport } = controlled();
    const ws = new WS('ws://buffered-sync.test/');
    await nextEvent(ws, 'open');
    transport.queued = 0; // everything written goes out at once
    ws.send('hello');
    ws.send(new Uint8Array(7));
    // The frames are written (with their headers and masks), and the transport is empty...
    expect(transport.written).toBe(2 + 4 + 5 + (2 + 4 + 7));
    // ...but in this task the attribute still counts what send() was given.
    expect(ws.bufferedAmount).toBe(12);
    await Promise.resolve();
    expect(ws.bufferedAmount).toBe(12);
    await laterTask();
    expect(ws.bufferedAmount).toBe(0);
  });

  it('counts the message, not its frame, while the transport holds it', async () => {
    const { WS, transport } = controlled();
    const ws = new WS('ws://buffered-frame.test/');
    await nextEvent(ws, 'open');
    transport.queued = Number.MAX_SAFE_INTEGER;
    // A 200-byte text: 2 + 2 header bytes (16-bit length) and a 4-byte mask on the wire.
    ws.send('é'.repeat(100));
    await laterTask();
    expect(ws.bufferedAmount).toBe(200);
  });

  it('drops when the transport reports its drain, in a task after the report', async () => {
    const { WS, transport, conn } = controlled();
    const ws = new WS('ws://buffered-drain.test/');
    await nextEvent(ws, 'open');
    transport.queued = 1_000;
    ws.send('abc');
    await laterTask();
    expect(ws.bufferedAmount).toBe(3);
    transport.queued = 0;
    conn().drain();
    // Not within the task that saw the drain.
    expect(ws.bufferedAmount).toBe(3);
    await laterTask();
    expect(ws.bufferedAmount).toBe(0);
  });

  it('drops when the transport empties without reporting it (it looks again after a while)', async () => {
    const { WS, transport } = controlled();
    const ws = new WS('ws://buffered-poll.test/');
    await nextEvent(ws, 'open');
    transport.queued = 1_000;
    ws.send(new Uint8Array(40));
    await laterTask();
    expect(ws.bufferedAmount).toBe(40);
    // Still queued over several looks.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(ws.bufferedAmount).toBe(40);
    transport.queued = 0;
    // Bounded wait for the periodic look (every few milliseconds); no timing is asserted.
    for (let i = 0; i < 200 && ws.bufferedAmount !== 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(ws.bufferedAmount).toBe(0);
  });

  it('takes off what was seen sent even if the transport is busy again when the task runs', async () => {
    // The peer's answer can arrive before the task that takes the bytes off, and make the
    // codec queue a reply (a Pong, a Close): that must not keep the sent bytes counted.
    const { WS, transport, conn } = controlled();
    const ws = new WS('ws://buffered-busy.test/');
    await nextEvent(ws, 'open');
    transport.queued = 500;
    ws.send('abcd');
    transport.queued = 0;
    conn().drain(); // the transport wrote everything, within the task that sent
    transport.queued = 6; // then something else was queued (a control frame)
    expect(ws.bufferedAmount).toBe(4);
    await laterTask();
    expect(ws.bufferedAmount).toBe(0);
  });

  it('has taken the bytes off by the time their echo arrives, without waiting for the next look', async () => {
    // A transport that never reports its drain: only the periodic look would see it empty.
    const { WS, transport, conn } = controlled();
    const ws = new WS('ws://buffered-echo.test/');
    await nextEvent(ws, 'open');
    transport.queued = 1_000;
    ws.send(new Uint8Array(2));
    await laterTask();
    expect(ws.bufferedAmount).toBe(2);
    // The transport sends, and the peer's answer (an unmasked binary frame) arrives at once.
    transport.queued = 0;
    const message = new Promise<number>((resolve) => ws.addEventListener('message', () => resolve(ws.bufferedAmount), { once: true }));
    conn().receive(Uint8Array.of(0x82, 0x02, 0, 0));
    expect(await message).toBe(0);
  });

  it('does not take bytes off in the host turn that sent them, even in a message task of that turn', async () => {
    const { WS, transport, conn } = controlled();
    const ws = new WS('ws://buffered-same-turn.test/');
    await nextEvent(ws, 'open');
    transport.queued = 0;
    const seen: number[] = [];
    ws.addEventListener('message', () => seen.push(ws.bufferedAmount));
    // Two messages arrive together; the first one's listener sends, the transport sends at once.
    ws.addEventListener('message', () => ws.send('abc'), { once: true });
    conn().receive(Uint8Array.of(0x81, 0x01, 0x61, 0x81, 0x01, 0x62));
    for (let i = 0; i < 20 && seen.length < 2; i++) await Promise.resolve();
    // Both message tasks ran as promise jobs of one host turn: the second still counts the send.
    expect(seen).toEqual([0, 3]);
    await laterTask();
    expect(ws.bufferedAmount).toBe(0);
  });

  it('keeps bytes the transport never sent counted after the connection closed', async () => {
    const { WS, transport, conn } = controlled();
    const ws = new WS('ws://buffered-lost.test/');
    await nextEvent(ws, 'open');
    transport.queued = 1_000;
    ws.send('lost');
    const closed = nextEvent(ws, 'close');
    conn().transportClosed();
    await closed;
    await laterTask();
    expect(ws.bufferedAmount).toBe(4);
  });
});
