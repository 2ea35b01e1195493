// WebSocket masking (RFC 6455 §5.3) in WebAssembly SIMD, hand-assembled.
//
// No wasm toolchain is available here, so the module is written as bytes. This file is a
// ~60-line "assembler": a few helpers that emit the binary format (LEB128 integers,
// sections, instruction opcodes), and one function body written as a list of
// instructions with the stack effect of each line in a comment. See README.md next to
// this file for the walk-through of the binary format.
//
// The exported function is
//
//   mask(ptr: i32, len: i32, key: i32): void
//
// XORs `len` octets of linear memory at `ptr` in place with the 4-octet mask key. `key`
// is the key's four octets read as a little-endian i32 (octet 0 in the low byte), which
// is exactly how a little-endian i32 load of the key from memory would see it. Because
// wasm memory is little-endian, an i32x4 of that value, stored to memory, lays out
// k0 k1 k2 k3 k0 k1 k2 k3 ... — one 16-octet vector of the repeating key. (i8x16.splat
// would repeat a single octet, which is only right for a key whose four octets are equal;
// the 4-octet period needs i32x4.splat.)
//
// Structure of the body:
//   1. kv = i32x4.splat(key)
//   2. main loop, 64 octets per iteration: 4 x (v128.load, v128.xor kv, v128.store)
//   3. cleanup loop, 16 octets per iteration: 1 x (load, xor, store)
//   4. tail loop, 1 octet per iteration: i32.load8_u, xor with the key, i32.store8
//      (store8 keeps the low 8 bits), then rotate the key right by 8 so its low byte is
//      the next key octet. Steps 2 and 3 consume multiples of 16 (a multiple of 4)
//      octets, so the key phase at the start of step 4 is still 0.
// Unaligned v128 loads and stores are legal in wasm; the alignment immediate is a hint.

// ---- binary-format helpers -------------------------------------------------------------

/** Unsigned LEB128. */
function uleb(n) {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (for i32.const immediates). */
function sleb(n) {
  const out = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** A vector: its element count, then the elements' bytes. */
const vec = (items) => [...uleb(items.length), ...items.flat()];
/** A section: id, byte size, contents. */
const section = (id, bytes) => [id, ...uleb(bytes.length), ...bytes];
/** A UTF-8 name. */
const name = (s) => vec([...new TextEncoder().encode(s)]);

// Value types.
const I32 = 0x7f;
const V128 = 0x7b;
const VOID_BLOCK = 0x40;

// Instructions (opcode bytes; immediates are appended where used).
const op = {
  block: 0x02, loop: 0x03, br: 0x0c, br_if: 0x0d, end: 0x0b,
  local_get: 0x20, local_set: 0x21,
  i32_load8_u: 0x2d, i32_store8: 0x3a,
  i32_const: 0x41,
  i32_ge_u: 0x4f, i32_add: 0x6a, i32_and: 0x71, i32_xor: 0x73, i32_rotr: 0x78,
  simd: 0xfd, // prefix; the SIMD opcode follows as a u32 LEB128
};
const simd = {
  v128_load: 0x00, // memarg
  v128_store: 0x0b, // memarg
  i32x4_splat: 0x11,
  v128_xor: 0x51,
};
/** memarg: log2(alignment hint), then a constant address offset. */
const memarg = (alignLog2, offset) => [...uleb(alignLog2), ...uleb(offset)];

const get = (i) => [op.local_get, ...uleb(i)];
const set = (i) => [op.local_set, ...uleb(i)];
const i32 = (n) => [op.i32_const, ...sleb(n)];
const S = (code, ...imm) => [op.simd, ...uleb(code), ...imm];

// ---- the function ----------------------------------------------------------------------

// Locals: 0 ptr, 1 len, 2 key (params); 3 end, 4 vecEnd, 5 bigEnd (i32); 6 kv (v128).
const PTR = 0, LEN = 1, KEY = 2, END = 3, VEC_END = 4, BIG_END = 5, KV = 6;

/** ptr[off..off+16) ^= kv, ptr unchanged. */
const xor16 = (off) => [
  ...get(PTR), //                          [addr]
  ...get(PTR), //                          [addr, addr]
  ...S(simd.v128_load, ...memarg(0, off)), // [addr, v]
  ...get(KV), //                           [addr, v, kv]
  ...S(simd.v128_xor), //                  [addr, v^kv]
  ...S(simd.v128_store, ...memarg(0, off)), // []
];

/** ptr += n */
const advance = (n) => [...get(PTR), ...i32(n), op.i32_add, ...set(PTR)];

/** while (ptr < limit) { body } — a block around a loop, exiting when ptr >= limit. */
const whileBelow = (limit, body) => [
  op.block, VOID_BLOCK,
  op.loop, VOID_BLOCK,
  ...get(PTR), ...get(limit), op.i32_ge_u, op.br_if, 1, // ptr >= limit: leave the block
  ...body,
  op.br, 0, // back to the loop head
  op.end,
  op.end,
];

const body = [
  // end = ptr + len
  ...get(PTR), ...get(LEN), op.i32_add, ...set(END),
  // vecEnd = ptr + (len & ~15); bigEnd = ptr + (len & ~63)
  ...get(PTR), ...get(LEN), ...i32(-16), op.i32_and, op.i32_add, ...set(VEC_END),
  ...get(PTR), ...get(LEN), ...i32(-64), op.i32_and, op.i32_add, ...set(BIG_END),
  // kv = i32x4.splat(key): k0 k1 k2 k3 repeated four times in memory order
  ...get(KEY), ...S(simd.i32x4_splat), ...set(KV),
  // 64 octets per iteration
  ...whileBelow(BIG_END, [...xor16(0), ...xor16(16), ...xor16(32), ...xor16(48), ...advance(64)]),
  // 16 octets per iteration
  ...whileBelow(VEC_END, [...xor16(0), ...advance(16)]),
  // the last 0..15 octets, one at a time
  ...whileBelow(END, [
    ...get(PTR), //                                   [addr]
    ...get(PTR), op.i32_load8_u, 0, 0, //             [addr, byte]
    ...get(KEY), op.i32_xor, //                       [addr, byte ^ key]
    op.i32_store8, 0, 0, //                           [] (low 8 bits stored)
    ...get(KEY), ...i32(8), op.i32_rotr, ...set(KEY), // next key octet into the low byte
    ...advance(1),
  ]),
];

const locals = vec([
  [...uleb(3), I32], // end, vecEnd, bigEnd
  [...uleb(1), V128], // kv
]);
const code = [...locals, ...body, op.end];

/** The module's bytes. */
export const wasmBytes = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, // "\0asm"
  0x01, 0x00, 0x00, 0x00, // version 1
  // type section: one signature, (i32 i32 i32) -> ()
  ...section(1, vec([[0x60, ...vec([I32, I32, I32]), ...vec([])]])),
  // function section: function 0 has type 0
  ...section(3, vec([uleb(0)])),
  // memory section: one memory, limits { min: 1 page }, no max (JS grows it)
  ...section(5, vec([[0x00, ...uleb(1)]])),
  // export section: "mask" = func 0, "memory" = memory 0
  ...section(7, vec([
    [...name('mask'), 0x00, ...uleb(0)],
    [...name('memory'), 0x02, ...uleb(0)],
  ])),
  // code section: one body, prefixed by its size
  ...section(10, vec([[...uleb(code.length), ...code]])),
]);

/** Whether this runtime accepts the module (it needs fixed-width SIMD). */
export const wasmSimdSupported = WebAssembly.validate(wasmBytes);

/**
 * Instantiates the module and returns masking helpers over it.
 * `key` arguments use wsflow's convention: the 4 octets in wire order as an unsigned
 * 32-bit number, octet 0 in the most significant byte.
 */
export function createWasmMasker(initialBytes = 1 << 20) {
  if (!wasmSimdSupported) throw new Error('WebAssembly SIMD is not supported here');
  const instance = new WebAssembly.Instance(new WebAssembly.Module(wasmBytes), {});
  const { mask, memory } = instance.exports;
  let mem = new Uint8Array(memory.buffer);

  function ensure(n) {
    if (n > mem.length) {
      memory.grow(Math.ceil((n - mem.length) / 65536));
      mem = new Uint8Array(memory.buffer);
    }
    return mem;
  }
  ensure(initialBytes);

  /** wsflow key (octet 0 in the high byte), rotated by `phase`, to the wasm's little-endian word. */
  function wasmKey(key, phase) {
    const s = (phase & 3) * 8;
    const k = s === 0 ? key >>> 0 : ((key << s) | (key >>> (32 - s))) >>> 0;
    // Octet 0 must end up in the low byte: a byte swap (wasm memory is little-endian
    // whatever the host is, and this is arithmetic on a number, so no host check).
    return ((k & 0xff) << 24) | ((k & 0xff00) << 8) | ((k >>> 8) & 0xff00) | (k >>> 24);
  }

  return {
    /** The module's memory as bytes (re-read after `ensure`, since growing replaces the buffer). */
    get memory() {
      return mem;
    },
    ensure,
    /** Masks `len` octets already in wasm memory at `ptr`, in place: the kernel alone. */
    maskInPlace(ptr, len, key, phase = 0) {
      mask(ptr, len, wasmKey(key, phase));
    },
    /**
     * What a codec would have to do: copy `src` into wasm memory, mask there, copy the
     * result out to `dst[dstOffset]`. Same contract as wsflow's `maskInto`.
     */
    maskInto(src, dst, dstOffset, key, phase = 0) {
      const n = src.length;
      const m = n > mem.length ? ensure(n) : mem;
      m.set(src, 0);
      mask(0, n, wasmKey(key, phase));
      dst.set(n === m.length ? m : m.subarray(0, n), dstOffset);
    },
  };
}
