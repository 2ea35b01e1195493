import { describe, expect, it } from 'vitest';
import { bytesOf } from '../src/index.ts';

describe('bytesOf: binary data as bytes, without copying', () => {
  it('returns a Uint8Array as it is', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    expect(bytesOf(bytes)).toBe(bytes);
  });

  it('views an ArrayBuffer and any view over one, offset and length kept, memory shared', () => {
    const buffer = new ArrayBuffer(8);
    const whole = bytesOf(buffer);
    expect(whole.buffer).toBe(buffer);
    expect(whole.length).toBe(8);
    const view = new DataView(buffer, 2, 4);
    const part = bytesOf(view);
    expect([part.byteOffset, part.length]).toEqual([2, 4]);
    part[0] = 7;
    expect(new Uint8Array(buffer)[2]).toBe(7);
    const words = new Uint16Array(buffer, 4, 2);
    expect([bytesOf(words).byteOffset, bytesOf(words).length]).toEqual([4, 4]);
  });
});
