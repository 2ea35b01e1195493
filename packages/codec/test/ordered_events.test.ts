// WebSocketConnection's ordered event path: `onmessage` and `onclose` together give every
// message in the order it arrived — the messages kept before the subscription first, even
// when more arrive before they are handed over — and all of them before the end.
import { describe, expect, it } from 'vitest';
import { WebSocketConnection, type ByteTransport } from '../src/connection.ts';
import { Opcode } from '../src/constants.ts';
import { makeFrame } from '../src/frame.ts';
import { serializeFrame } from '../src/frame_serializer.ts';

/** A transport that records pause/resume and drops what is written. */
class RecordingTransport implements ByteTransport {
  readonly calls: string[] = [];
  bufferedAmount = 0;
  write(): void {}
  end(): void {}
  destroy(): void {}
  pause(): void {
    this.calls.push('pause');
  }
  resume(): void {
    this.calls.push('resume');
  }
}

/** An unmasked Text frame, as a client receives it. */
const text = (s: string): Uint8Array => serializeFrame(makeFrame(Opcode.Text, new TextEncoder().encode(s)));

function client(readableHighWaterMark = 16): { conn: WebSocketConnection; transport: RecordingTransport } {
  const transport = new RecordingTransport();
  return { conn: new WebSocketConnection(transport, { role: 'client', readableHighWaterMark }), transport };
}

describe('the connection as an ordered event path', () => {
  it('a message arriving before the kept ones are handed over comes after them', async () => {
    const { conn } = client();
    conn.receive(text('kept 1'));
    conn.receive(text('kept 2'));
    const seen: unknown[] = [];
    conn.onmessage = (data) => seen.push(data);
    // Same task, before the hand-over microtask runs.
    conn.receive(text('later'));
    await Promise.resolve();
    await Promise.resolve();
    expect(seen).toEqual(['kept 1', 'kept 2', 'later']);
  });

  it('an unclean end right after the subscription comes after every message', () => {
    const { conn } = client();
    conn.receive(text('kept'));
    const seen: unknown[] = [];
    conn.onmessage = (data) => seen.push(data);
    conn.onclose = (info) => seen.push(`close ${info.closeCode}`);
    conn.receive(text('later'));
    conn.transportClosed();
    expect(seen).toEqual(['kept', 'later', 'close 1006']);
  });

  it('reading resumes only once the kept messages were handed over', async () => {
    const { conn, transport } = client(2);
    conn.receive(text('a'));
    conn.receive(text('b'));
    expect(transport.calls).toEqual(['pause']);
    const seen: unknown[] = [];
    conn.onmessage = (data) => {
      seen.push(data);
      seen.push([...transport.calls]);
    };
    await Promise.resolve();
    await Promise.resolve();
    expect(seen).toEqual(['a', ['pause'], 'b', ['pause']]);
    expect(transport.calls).toEqual(['pause', 'resume']);
  });
});
