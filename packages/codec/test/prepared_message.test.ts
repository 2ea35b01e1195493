// A message framed once and sent to many connections (`prepareMessage` + `sendPrepared`):
// its bytes are exactly what `send` writes, the very same buffer goes to every transport,
// and it keeps every rule `send` keeps (order behind a Blob or a fragmented message,
// bufferedAmount and maxBufferedAmount, nothing once closing). With permessage-deflate a
// message is compressed once for all connections that reset their context, once each
// otherwise. `cork` makes a burst of sends one transport write.
import { describe, expect, it } from 'vitest';
import { WebSocketConnection, type ByteTransport, type ConnectionOptions } from '../src/connection.ts';
import { Opcode } from '../src/constants.ts';
import { PerMessageDeflate } from '../src/per_message_deflate.ts';
import type { DeflateAgreement } from '../src/permessage_deflate_params.ts';
import { prepareMessage } from '../src/prepared_message.ts';
import { concatList, decodeWritten } from './helpers.ts';
import { storedEngine } from './stored_deflate_engine.ts';

/** A transport that records every buffer it is handed, as it is (no copy). */
class RecordingTransport implements ByteTransport {
  writes: Uint8Array[] = [];
  queued = 0;
  /** Whether written bytes stay queued (a peer that does not read). */
  stalled = false;
  get bufferedAmount(): number {
    return this.queued;
  }
  write(chunk: Uint8Array): void {
    this.writes.push(chunk);
    if (this.stalled) this.queued += chunk.length;
  }
  writev(chunks: Uint8Array[]): void {
    for (const chunk of chunks) this.write(chunk);
  }
  end(): void {}
  destroy(): void {}
  pause(): void {}
  resume(): void {}
  /** The frames written, as a client reads them. */
  frames() {
    return decodeWritten('server', concatList(this.writes));
  }
}

function open(options: Partial<ConnectionOptions> = {}) {
  const transport = new RecordingTransport();
  const connection = new WebSocketConnection(transport, { role: 'server', ...options });
  return { transport, connection };
}

const agreement = (serverNoContextTakeover: boolean, serverMaxWindowBits = 15): DeflateAgreement => ({
  serverNoContextTakeover,
  clientNoContextTakeover: false,
  serverMaxWindowBits,
  clientMaxWindowBits: 15,
});

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('prepareMessage', () => {
  it('frames text and binary exactly as send does, for every length encoding', () => {
    const cases: Array<string | Uint8Array> = ['', 'tick', 'é'.repeat(100), new Uint8Array(125).fill(1), new Uint8Array(300).fill(2), new Uint8Array(70_000).fill(3), 'x'.repeat(20_000)];
    for (const data of cases) {
      const direct = open();
      direct.connection.send(data);
      const message = prepareMessage(data);
      expect(message.frame).toEqual(concatList(direct.transport.writes));
      expect(message.binary).toBe(typeof data !== 'string');
    }
  });

  it('copies the caller\'s bytes, so the buffer may be reused at once', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const message = prepareMessage(bytes.buffer);
    bytes[0] = 9;
    expect([...message.payload]).toEqual([1, 2, 3]);
    const view = new DataView(new Uint8Array([0, 7, 8, 0]).buffer, 1, 2);
    expect([...prepareMessage(view).payload]).toEqual([7, 8]);
  });

  it('refuses what is no message, and a compress option that is no boolean, with TypeError', () => {
    expect(() => prepareMessage(42 as never)).toThrow(TypeError);
    expect(() => prepareMessage({} as never)).toThrow(TypeError);
    expect(() => prepareMessage('a', { compress: 'yes' as never })).toThrow(TypeError);
  });
});

describe('sendPrepared', () => {
  it('hands the very same Uint8Array to every connection\'s transport when nothing is pending', () => {
    const message = prepareMessage('to everyone');
    const peers = [open(), open(), open()];
    for (const { connection } of peers) expect(connection.sendPrepared(message)).toBe(true);
    for (const { transport } of peers) {
      expect(transport.writes).toHaveLength(1);
      expect(transport.writes[0]).toBe(message.frame);
    }
  });

  it('waits behind a Blob being read, in order with sends', async () => {
    const { connection, transport } = open();
    connection.send(new Blob(['blob']));
    connection.sendPrepared(prepareMessage('prepared'));
    connection.send('after');
    expect(connection.bufferedAmount).toBe(4 + 10 + 5);
    expect(transport.writes).toHaveLength(0);
    // A Blob is read in its own time (later than a zero timer in Chromium): wait for it, bounded.
    for (let i = 0; i < 200 && connection.bufferedAmount > 0; i++) await settle();
    expect(transport.frames().map((f) => new TextDecoder().decode(f.payload))).toEqual(['blob', 'prepared', 'after']);
    expect(connection.bufferedAmount).toBe(0);
  });

  it('goes right after the last fragment of a message being sent, never between its fragments', () => {
    const { connection, transport } = open();
    connection.sendFragment('Hel', false);
    connection.sendPrepared(prepareMessage('published'));
    expect(connection.bufferedAmount).toBe(11);
    connection.sendFragment('lo', true);
    const frames = transport.frames();
    expect(frames.map((f) => [f.opcode, f.fin, new TextDecoder().decode(f.payload)])).toEqual([
      [Opcode.Text, false, 'Hel'],
      [Opcode.Continuation, true, 'lo'],
      [Opcode.Text, true, 'published'],
    ]);
    expect(connection.bufferedAmount).toBe(0);
  });

  it('sends nothing once closing started', () => {
    const { connection, transport } = open();
    connection.close({ closeCode: 1000 });
    expect(connection.sendPrepared(prepareMessage('late'))).toBe(false);
    expect(transport.frames().map((f) => f.opcode)).toEqual([Opcode.Close]);
  });

  it('counts against maxBufferedAmount: past it, the close policy queues a Close 1008 behind it', () => {
    const { connection, transport } = open({ maxBufferedAmount: 100 });
    const errors: Error[] = [];
    connection.onerror = (error) => errors.push(error);
    transport.stalled = true;
    transport.queued = 90; // the peer has not read yet
    connection.sendPrepared(prepareMessage(new Uint8Array(20)));
    expect(errors.map((e) => e.name)).toEqual(['BufferedAmountError']);
    const frames = transport.frames();
    expect(frames.map((f) => f.opcode)).toEqual([Opcode.Binary, Opcode.Close]);
    expect((frames[1].payload[0] << 8) | frames[1].payload[1]).toBe(1008);
  });

  it('is for servers: a client connection refuses it with TypeError', () => {
    const { connection } = open({ role: 'client' });
    expect(() => connection.sendPrepared(prepareMessage('x'))).toThrow(TypeError);
  });
});

describe('sendPrepared with permessage-deflate', () => {
  it('compresses once for every connection that resets its context with the same window', () => {
    const engine = storedEngine();
    const peers = [1, 2, 3].map(() => open({ perMessageDeflate: new PerMessageDeflate('server', agreement(true), engine, { threshold: 0 }) }));
    const other = open({ perMessageDeflate: new PerMessageDeflate('server', agreement(true, 10), engine, { threshold: 0 }) });
    const message = prepareMessage('shared');
    for (const { connection } of peers) connection.sendPrepared(message);
    other.connection.sendPrepared(message);
    expect(engine.deflated).toBe(2); // one per window size, not one per connection
    expect(message.compressions).toBe(2);
    const first = peers[0].transport.writes[0];
    expect(first[0] & 0x40).toBe(0x40); // RSV1: compressed
    for (const { transport } of peers) expect(transport.writes[0]).toBe(first);
    // Every peer inflates the message it was sent.
    const inflater = engine.createInflater({ windowBits: 15, noContextTakeover: true });
    for (const { transport } of [...peers, other]) {
      const [frame] = transport.frames();
      expect(new TextDecoder().decode(inflater.inflate(frame.payload, 1024))).toBe('shared');
    }
  });

  it('compresses per connection where the context is taken over, and follows the message\'s compress option', () => {
    const engine = storedEngine();
    const peers = [1, 2].map(() => open({ perMessageDeflate: new PerMessageDeflate('server', agreement(false), engine, { threshold: 0 }) }));
    const message = prepareMessage('each');
    for (const { connection } of peers) connection.sendPrepared(message);
    expect(engine.deflated).toBe(2);
    expect(message.compressions).toBe(0);
    for (const { transport } of peers) expect(transport.frames()[0].rsv).toBe(0x40);
    const plain = prepareMessage('plain', { compress: false });
    peers[0].connection.sendPrepared(plain);
    expect(engine.deflated).toBe(2);
    expect(peers[0].transport.writes.at(-1)).toBe(plain.frame);
  });
});

describe('cork', () => {
  it('makes a burst of sends one transport write, in order, until uncork', () => {
    const { connection, transport } = open();
    expect(connection.cork()).toBe(true);
    expect(connection.cork()).toBe(false); // already corked
    connection.send('a');
    connection.sendPrepared(prepareMessage('b'));
    connection.send(new Uint8Array([1]));
    expect(transport.writes).toHaveLength(0);
    expect(connection.bufferedAmount).toBe(3 + 3 + 3);
    connection.uncork();
    expect(transport.writes).toHaveLength(1);
    expect(transport.frames().map((f) => f.opcode)).toEqual([Opcode.Text, Opcode.Text, Opcode.Binary]);
    expect(connection.bufferedAmount).toBe(0);
    connection.uncork(); // not corked: nothing
    expect(transport.writes).toHaveLength(1);
  });

  it('writes a single corked message as the very buffer it was given', () => {
    const { connection, transport } = open();
    const message = prepareMessage('one');
    connection.cork();
    connection.sendPrepared(message);
    connection.uncork();
    expect(transport.writes[0]).toBe(message.frame);
  });

  it('keeps a Close made while corked behind what was corked before it, and writes nothing after a drop', () => {
    const { connection, transport } = open();
    connection.cork();
    connection.send('before');
    connection.close({ closeCode: 1000 });
    connection.uncork();
    expect(transport.frames().map((f) => f.opcode)).toEqual([Opcode.Text, Opcode.Close]);
    const dropped = open();
    dropped.connection.cork();
    dropped.connection.send('lost');
    dropped.connection.abort();
    dropped.connection.uncork();
    expect(dropped.transport.writes).toHaveLength(0);
  });
});
