/**
 * A WebAssembly SIMD masking kernel, used by {@link maskInto} for payloads over 63
 * octets, copies in and out of its memory included (measured in bench/codec-profile.mjs:
 * as fast as the 32-bit JS path at 64 octets, 1.3x at 1 KiB, about 2x from 64 KiB).
 *
 * The 257-byte module is hand-assembled by `bench/wasm-mask/mask.mjs`, which documents
 * every instruction; `test/mask_wasm.test.ts` checks that these bytes are what it
 * assembles. It exports `memory` (one 64 KiB page) and `mask(ptr, len, key)`, which XORs
 * `len` octets at `ptr` in place with the key given as a little-endian i32 (key octet 0
 * in the low byte): 64 octets per loop turn with `v128.xor`, then 16, then 1.
 * @module
 */

/** The module, base64. */
export const WASM_MASK_MODULE =
  'AGFzbQEAAAABBwFgA39/fwADAgEABQMBAAEHEQIEbWFzawAABm1lbW9yeQIACtEBAc4BAgN/AXsgACABaiEDIAAgAUFwcWohBCAAIAFBQHFqIQUgAv0RIQYCQANAIAAgBU8NASAAIAD9AAAAIAb9Uf0LAAAgACAA/QAAECAG/VH9CwAQIAAgAP0AACAgBv1R/QsAICAAIAD9AAAwIAb9Uf0LADAgAEHAAGohAAwACwsCQANAIAAgBE8NASAAIAD9AAAAIAb9Uf0LAAAgAEEQaiEADAALCwJAA0AgACADTw0BIAAgAC0AACACczoAACACQQh4IQIgAEEBaiEADAALCws=';

/** The module's bytes. */
export function wasmMaskBytes(): Uint8Array<ArrayBuffer> {
  const text = atob(WASM_MASK_MODULE);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/**
 * How many octets {@link maskInto} masks per kernel call (the kernel's memory is one
 * 64 KiB page; only this much of it is used, so that a block stays in the L1 cache).
 */
export const WASM_BLOCK = 4096;

/** The instantiated kernel: the first {@link WASM_BLOCK} octets of its memory, and the function. */
export interface WasmMasker {
  readonly memory: Uint8Array;
  mask(ptr: number, length: number, keyLittleEndian: number): void;
}

/**
 * Instantiates the kernel synchronously, or returns null where WebAssembly or its SIMD
 * proposal is missing or forbidden (e.g. by a Content-Security-Policy): callers then
 * use the JS path.
 */
export function createWasmMasker(): WasmMasker | null {
  try {
    if (typeof WebAssembly === 'undefined') return null;
    const bytes = wasmMaskBytes();
    if (!WebAssembly.validate(bytes)) return null;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    const exports = instance.exports as { mask: (p: number, l: number, k: number) => void; memory: WebAssembly.Memory };
    return { memory: new Uint8Array(exports.memory.buffer, 0, WASM_BLOCK), mask: exports.mask };
  } catch {
    return null;
  }
}
