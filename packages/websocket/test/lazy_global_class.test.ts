// lazyGlobalClass: a stand-in for a global class, looked up on first use.
import { describe, expect, it } from 'vitest';
import { lazyGlobalClass } from '../src/lazy_global_class.ts';

class Fallback {
  constructor(readonly type: string) {}
}

describe('lazyGlobalClass', () => {
  it('does not read the global until first used, then constructs and matches instanceof for it', () => {
    let reads = 0;
    class Native {
      constructor(readonly type: string) {}
    }
    Object.defineProperty(globalThis, '__wsflowLazyTest', { configurable: true, get: () => (reads++, Native) });
    try {
      const Lazy = lazyGlobalClass('__wsflowLazyTest', Fallback);
      expect(reads).toBe(0);
      const made = new Lazy('close');
      expect(made).toBeInstanceOf(Native);
      expect(made).toBeInstanceOf(Lazy);
      expect((made as Native).type).toBe('close');
      expect(new Native('x')).toBeInstanceOf(Lazy);
      expect(reads).toBe(1);
    } finally {
      delete (globalThis as Record<string, unknown>).__wsflowLazyTest;
    }
  });

  it('uses the fallback where the global is missing, and refuses a call without new', () => {
    const Lazy = lazyGlobalClass('__wsflowNoSuchGlobal', Fallback);
    expect(new Lazy('m')).toBeInstanceOf(Fallback);
    expect(() => (Lazy as unknown as (t: string) => unknown)('m')).toThrow(TypeError);
  });
});
