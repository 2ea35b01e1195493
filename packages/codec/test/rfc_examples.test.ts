// RFC 6455 §5.7 examples, decoded in the role that receives them and encoded in the
// role that sends them.
import { describe, expect, it } from 'vitest';
import { Opcode } from '../src/constants.ts';
import { makeFrame } from '../src/frame.ts';
import { serializeFrame } from '../src/frame_serializer.ts';
import { feedAllWays, hex, toHex } from './helpers.ts';

describe('RFC 6455 §5.7 examples', () => {
  it('client decodes a single-frame unmasked text message "Hello"', () => {
    const r = feedAllWays({ role: 'client' }, hex('81 05 48 65 6c 6c 6f'));
    expect(r.events).toEqual([{ type: 'text', data: 'Hello' }]);
  });

  it('server decodes a single-frame masked text message "Hello"', () => {
    const r = feedAllWays({ role: 'server' }, hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'));
    expect(r.events).toEqual([{ type: 'text', data: 'Hello' }]);
  });

  it('client decodes a fragmented unmasked text message "Hel" + "lo"', () => {
    const r = feedAllWays({ role: 'client' }, hex('01 03 48 65 6c 80 02 6c 6f'));
    expect(r.events).toEqual([{ type: 'text', data: 'Hello' }]);
  });

  it('client answers the unmasked Ping "Hello" with a masked Pong "Hello"', () => {
    const r = feedAllWays({ role: 'client' }, hex('89 05 48 65 6c 6c 6f'));
    expect(r.events).toEqual([{ type: 'ping', data: '48 65 6c 6c 6f' }]);
    // The RFC's masked Pong example, with its key 37 fa 21 3d (our test key source).
    expect(r.written).toBe('8a 85 37 fa 21 3d 7f 9f 4d 51 58');
  });

  it('server decodes the masked Pong "Hello"', () => {
    const r = feedAllWays({ role: 'server' }, hex('8a 85 37 fa 21 3d 7f 9f 4d 51 58'));
    expect(r.events).toEqual([{ type: 'pong', data: '48 65 6c 6c 6f' }]);
    expect(r.written).toBe('');
  });

  it('client decodes 256 bytes of binary data in a single unmasked frame (16-bit length)', () => {
    const payload = new Uint8Array(256).map((_, i) => i);
    const bytes = new Uint8Array([0x82, 0x7e, 0x01, 0x00, ...payload]);
    const r = feedAllWays({ role: 'client' }, bytes);
    expect(r.events).toEqual([{ type: 'binary', data: toHex(payload) }]);
  });

  it('client decodes 64 KiB of binary data in a single unmasked frame (64-bit length)', () => {
    const payload = new Uint8Array(65536).map((_, i) => i * 7);
    const head = hex('82 7f 00 00 00 00 00 01 00 00');
    const r = feedAllWays({ role: 'client' }, new Uint8Array([...head, ...payload]).subarray(0, 10 + 65536));
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toEqual({ type: 'binary', data: toHex(payload) });
  }, 30_000);

  it('serializes the examples byte for byte', () => {
    const hello = new TextEncoder().encode('Hello');
    expect(toHex(serializeFrame(makeFrame(Opcode.Text, hello)))).toBe('81 05 48 65 6c 6c 6f');
    expect(toHex(serializeFrame(makeFrame(Opcode.Text, hello), 0x37fa213d))).toBe('81 85 37 fa 21 3d 7f 9f 4d 51 58');
    expect(toHex(serializeFrame(makeFrame(Opcode.Text, hello.subarray(0, 3), false)))).toBe('01 03 48 65 6c');
    expect(toHex(serializeFrame(makeFrame(Opcode.Continuation, hello.subarray(3))))).toBe('80 02 6c 6f');
    expect(toHex(serializeFrame(makeFrame(Opcode.Ping, hello)))).toBe('89 05 48 65 6c 6c 6f');
    expect(toHex(serializeFrame(makeFrame(Opcode.Binary, new Uint8Array(256))).subarray(0, 4))).toBe('82 7e 01 00');
    expect(toHex(serializeFrame(makeFrame(Opcode.Binary, new Uint8Array(65536))).subarray(0, 10))).toBe(
      '82 7f 00 00 00 00 00 01 00 00',
    );
  });
});
