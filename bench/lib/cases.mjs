// What is measured, shared by the orchestrator (bench/codec.mjs) and its workers.

export const KiB = 1024;
export const MiB = 1024 * 1024;

/** Socket-sized chunks the decoders are fed. */
export const CHUNK = 64 * KiB;

/**
 * Message cases for decode and encode. `unit` is what the table reports: frames/s for
 * small messages, MB/s (10^6 payload octets per second) for large ones. `decodeBatch` /
 * `encodeBatch`: how many messages one timed batch holds (null: about 1 MiB of input).
 */
export const MESSAGE_CASES = [
  { id: 'bin16', label: '16 B binary', kind: 'binary', size: 16, unit: 'frames', decodeBatch: null, encodeBatch: 8192 },
  { id: 'text16', label: '16 B text', kind: 'text', size: 16, unit: 'frames', decodeBatch: null, encodeBatch: 8192 },
  // Encode batches are larger so that zero-copy server-role sends (~50 ns a frame) still
  // outweigh the ~1.5 µs of per-batch timing overhead.
  { id: 'bin64k', label: '64 KiB binary', kind: 'binary', size: 64 * KiB, unit: 'MB', decodeBatch: 16, encodeBatch: 64 },
  { id: 'bin1m', label: '1 MiB binary', kind: 'binary', size: MiB, unit: 'MB', decodeBatch: 2, encodeBatch: 16 },
];

/** Opt-in (`--extra`): mid-size messages, where per-frame allocation dominates. */
export const EXTRA_CASES = [
  { id: 'bin1k', label: '1 KiB binary', kind: 'binary', size: 1024, unit: 'frames', decodeBatch: null, encodeBatch: 4096 },
  { id: 'text1k', label: '1 KiB text', kind: 'text', size: 1024, unit: 'frames', decodeBatch: null, encodeBatch: 4096 },
];

/** For small frames, a decode batch is about this many wire octets (16 chunks of 64 KiB). */
export const SMALL_DECODE_BATCH_BYTES = 1 * MiB;

export const MASK_SIZES = [16, KiB, 64 * KiB, MiB];

/** Implementations, in table order. `worker` is the process that runs them. */
export const IMPLS = {
  // decode
  'wsflow-protocol': { worker: 'wsflow-protocol', label: 'wsflow WebSocketProtocol', wsflow: true },
  'wsflow-parser': { worker: 'wsflow-parser', label: 'wsflow FrameParser (frames only)', wsflow: true },
  'wsflow-decoder-stream': { worker: 'wsflow-stream', label: 'wsflow FrameDecoderStream (frames only)', wsflow: true },
  'wsflow-message-decoder-streams': { worker: 'wsflow-stream', label: 'wsflow FrameDecoder+MessageDecoderStream', wsflow: true },
  // encode
  'wsflow-send': { worker: 'wsflow-protocol', label: 'wsflow WebSocketProtocol.send*', wsflow: true },
  'wsflow-serialize': { worker: 'wsflow-parser', label: 'wsflow serializeFrame', wsflow: true },
  'wsflow-encoder-stream': { worker: 'wsflow-stream', label: 'wsflow FrameEncoderStream (Frame in)', wsflow: true },
  'wsflow-message-encoder-streams': { worker: 'wsflow-stream', label: 'wsflow MessageEncoder+FrameEncoderStream', wsflow: true },
  // ws
  'ws': { worker: 'ws', label: 'ws (bufferutil)', baseline: true },
  'ws-raw': { worker: 'ws', label: 'ws (bufferutil), Buffer out, no toString' },
  'ws-js': { worker: 'ws-js', label: 'ws (WS_NO_BUFFER_UTIL=1)', baselineJs: true },
  // masking
  'mask-maskInto': { worker: 'mask', label: 'wsflow maskInto (wasm SIMD, 4 KiB blocks)', maskBase: true },
  'mask-fused32': { worker: 'mask', label: 'prototype: fused src->dst 32-bit loop' },
  'mask-byteloop': { worker: 'mask', label: 'plain byte loop' },
  'mask-bufferutil': { worker: 'mask', label: 'bufferutil.mask (native)' },
  'mask-wasm-copy': { worker: 'mask', label: 'wasm SIMD, copy in + out' },
  'mask-wasm-inplace': { worker: 'mask', label: 'wasm SIMD, in wasm memory (kernel only)' },
};

/**
 * The rows of the run, in order. Each row is one case measured with several
 * implementations whose repetitions are interleaved.
 */
export function plan({ extra = false } = {}) {
  const rows = [];
  const cases = extra ? [...MESSAGE_CASES.slice(0, 2), ...EXTRA_CASES, ...MESSAGE_CASES.slice(2)] : MESSAGE_CASES;
  for (const role of ['server', 'client']) {
    const masked = role === 'server';
    for (const c of cases) {
      const impls = ['wsflow-protocol', 'wsflow-parser', 'wsflow-decoder-stream', 'wsflow-message-decoder-streams', 'ws'];
      if (c.kind === 'text') impls.push('ws-raw');
      // Without bufferutil ws masks in JS only from 32 octets up; below that both ws variants run the same code.
      if (masked && c.size >= 32) impls.push('ws-js');
      rows.push({ section: 'decode', role, case: c, impls });
    }
  }
  for (const role of ['server', 'client']) {
    const masked = role === 'client';
    for (const c of cases) {
      const impls = ['wsflow-send', 'wsflow-serialize', 'wsflow-encoder-stream', 'wsflow-message-encoder-streams', 'ws'];
      if (masked && c.size >= 48) impls.push('ws-js');
      rows.push({ section: 'encode', role, case: c, impls });
    }
  }
  for (const size of MASK_SIZES) {
    rows.push({
      section: 'mask',
      role: '-',
      case: { id: `mask${size}`, label: sizeLabel(size), size, unit: 'MB' },
      impls: ['mask-maskInto', 'mask-fused32', 'mask-byteloop', 'mask-bufferutil', 'mask-wasm-copy', 'mask-wasm-inplace'],
    });
  }
  return rows;
}

export function sizeLabel(n) {
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB`;
  if (n >= KiB && n % KiB === 0) return `${n / KiB} KiB`;
  return `${n} B`;
}
