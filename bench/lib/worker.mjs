// A benchmark worker process, forked by bench/codec.mjs. Each implementation family runs
// in its own process (so that, say, ws's code and wsflow's never share inline caches, and
// WS_NO_BUFFER_UTIL can differ); the parent asks for one timed repetition at a time and
// interleaves implementations, so background load hits them all alike.
//
// Messages from the parent: { id, cmd: 'rep', row, impl, ms, maxBatches }.
// Reply: { id, result: { units, ms, batches } } or { id, na: 'reason' } or { id, error }.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CHUNK, MiB, SMALL_DECODE_BATCH_BYTES } from './cases.mjs';
import { chunk, frameStream, freshCopies, headerSize, payloadFor } from './frames.mjs';
import { fusedMask32, byteLoopMask } from './prototypes.mjs';

const require = createRequire(import.meta.url);
// ws's package "exports" hides lib/*; require its internals by file path instead.
const wsLib = (name) => require(join(dirname(require.resolve('ws')), 'lib', name));
const codec = await import(pathToFileURL(process.env.WSFLOW_BENCH_CODEC).href);

const MAX_PAYLOAD = 16 * MiB;
const noop = () => {};

class NotAvailable extends Error {}

// ---- decoders: feed(chunks) -> void | Promise; count() -> { messages, units } -----------

function wsflowProtocolDecoder(role) {
  let messages = 0, octets = 0, error = null;
  const p = new codec.WebSocketProtocol({ role, maxPayload: MAX_PAYLOAD, maxMessage: MAX_PAYLOAD }, {
    write: noop,
    onText(s) { messages++; octets += s.length; },
    onBinary(b) { messages++; octets += b.length; },
    onError(e) { error = e; },
  });
  return {
    feed(chunks) { for (let i = 0; i < chunks.length; i++) p.receiveData(chunks[i]); },
    take() { if (error) throw error; const r = { messages, octets }; messages = octets = 0; return r; },
  };
}

function wsflowParserDecoder(role) {
  let messages = 0, octets = 0;
  const parser = new codec.FrameParser({ role, maxPayload: MAX_PAYLOAD }, {
    frameHeader: noop,
    framePartial: noop,
    frame(fin, rsv, opcode, payload) { messages++; octets += payload.length; },
  });
  return {
    feed(chunks) { for (let i = 0; i < chunks.length; i++) parser.push(chunks[i]); },
    take() { const r = { messages, octets }; messages = octets = 0; return r; },
  };
}

/**
 * Through the WHATWG streams: bytes -> FrameDecoderStream -> Frame objects, or with
 * `messages`, on through MessageDecoderStream -> string | Uint8Array (the message level
 * that ws's Receiver and WebSocketProtocol work at). Picked up when the codec exports them.
 */
function wsflowStreamDecoder(role, messages) {
  const names = messages ? ['FrameDecoderStream', 'MessageDecoderStream'] : ['FrameDecoderStream'];
  for (const n of names) if (typeof codec[n] !== 'function') throw new NotAvailable('n/a (not yet built)');
  let writable, readable;
  try {
    const frames = new codec.FrameDecoderStream({ role, maxPayload: MAX_PAYLOAD });
    writable = frames.writable;
    readable = messages ? frames.readable.pipeThrough(new codec.MessageDecoderStream({ maxMessage: MAX_PAYLOAD })) : frames.readable;
  } catch (e) {
    throw new NotAvailable(`n/a (constructor threw: ${e.message})`);
  }
  const writer = writable.getWriter();
  const reader = readable.getReader();
  let count = 0, octets = 0;
  return {
    async feed(chunks, expected) {
      for (let i = 0; i < chunks.length; i++) writer.write(chunks[i]).catch(noop);
      const target = count + expected;
      while (count < target) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`${names.join('+')} ended early`);
        count++;
        octets += typeof value === 'string' || value instanceof Uint8Array ? value.length : value.payload.length;
      }
    },
    take() { const r = { messages: count, octets }; count = octets = 0; return r; },
  };
}

function wsDecoder(role, toString) {
  const Receiver = wsLib('receiver.js');
  let messages = 0, octets = 0, error = null;
  const r = new Receiver({ isServer: role === 'server', maxPayload: MAX_PAYLOAD, binaryType: 'nodebuffer' });
  r.on('message', toString
    ? (data, isBinary) => { messages++; octets += isBinary ? data.length : data.toString().length; }
    : (data) => { messages++; octets += data.length; });
  r.on('error', (e) => { error = e; });
  return {
    feed(chunks) { for (let i = 0; i < chunks.length; i++) r.write(chunks[i]); },
    take() { if (error) throw error; const r2 = { messages, octets }; messages = octets = 0; return r2; },
  };
}

const DECODERS = {
  'wsflow-protocol': (role) => wsflowProtocolDecoder(role),
  'wsflow-parser': (role) => wsflowParserDecoder(role),
  'wsflow-decoder-stream': (role) => wsflowStreamDecoder(role, false),
  'wsflow-message-decoder-streams': (role) => wsflowStreamDecoder(role, true),
  'ws': (role) => wsDecoder(role, true),
  'ws-raw': (role) => wsDecoder(role, false),
  'ws-js': (role) => wsDecoder(role, true),
};

function decodeBench(impl, role, c) {
  const masked = role === 'server';
  const { bytes } = payloadFor(c.kind, c.size);
  const opcode = c.kind === 'text' ? 1 : 2;
  const wire = headerSize(c.size, masked) + c.size;
  const count = c.decodeBatch ?? Math.floor(SMALL_DECODE_BATCH_BYTES / wire);
  const chunks = chunk(frameStream(count, opcode, bytes, masked), CHUNK);
  const dec = DECODERS[impl](role);
  return {
    units: c.unit === 'frames' ? count : count * c.size,
    prepare: () => freshCopies(chunks),
    run: (input) => dec.feed(input, count),
    check(batches) {
      const { messages, octets } = dec.take();
      if (messages !== count * batches) throw new Error(`${impl}: decoded ${messages} messages, expected ${count * batches}`);
      if (octets !== count * batches * c.size) throw new Error(`${impl}: decoded ${octets} units, expected ${count * batches * c.size}`);
    },
  };
}

// ---- encoders: send(n) -> void | Promise; take() -> octets written --------------------

function wsflowSendEncoder(role, c, data) {
  let out = 0;
  const p = new codec.WebSocketProtocol({ role }, { write(b) { out += b.length; } });
  const payload = new Uint8Array(data.bytes); // a plain Uint8Array: wsflow's natural input
  const text = data.text;
  return {
    send: text !== undefined
      ? (n) => { for (let i = 0; i < n; i++) p.sendText(text); }
      : (n) => { for (let i = 0; i < n; i++) p.sendBinary(payload); },
    take() { const r = out; out = 0; return r; },
  };
}

function wsflowSerializeEncoder(role, c, data) {
  let out = 0;
  const keys = new codec.RandomMaskKeys();
  const masked = role === 'client';
  const payload = new Uint8Array(data.bytes);
  const text = data.text;
  const { makeFrame, serializeFrame, encodeUtf8 } = codec;
  return {
    send: text !== undefined
      ? (n) => { for (let i = 0; i < n; i++) out += serializeFrame(makeFrame(1, encodeUtf8(text)), masked ? keys.next() : undefined).length; }
      : (n) => { for (let i = 0; i < n; i++) out += serializeFrame(makeFrame(2, payload), masked ? keys.next() : undefined).length; },
    take() { const r = out; out = 0; return r; },
  };
}

/**
 * Through the WHATWG streams: Frame objects -> FrameEncoderStream -> bytes, or with
 * `messages`, string | Uint8Array -> MessageEncoderStream -> FrameEncoderStream -> bytes.
 */
function wsflowStreamEncoder(role, c, data, messages) {
  const names = messages ? ['MessageEncoderStream', 'FrameEncoderStream'] : ['FrameEncoderStream'];
  for (const n of names) if (typeof codec[n] !== 'function') throw new NotAvailable('n/a (not yet built)');
  let writable, readable;
  try {
    const frames = new codec.FrameEncoderStream({ role });
    readable = frames.readable;
    if (messages) {
      const msgs = new codec.MessageEncoderStream();
      msgs.readable.pipeTo(frames.writable).catch(noop);
      writable = msgs.writable;
    } else writable = frames.writable;
  } catch (e) {
    throw new NotAvailable(`n/a (constructor threw: ${e.message})`);
  }
  const writer = writable.getWriter();
  const reader = readable.getReader();
  const payload = new Uint8Array(data.bytes);
  const text = data.text;
  const { makeFrame, encodeUtf8 } = codec;
  let item;
  if (messages) item = text !== undefined ? () => text : () => payload;
  else item = text !== undefined ? () => makeFrame(1, encodeUtf8(text)) : () => makeFrame(2, payload);
  let out = 0;
  return {
    async send(n, expectedOctets) {
      const target = out + expectedOctets;
      for (let i = 0; i < n; i++) writer.write(item()).catch(noop);
      while (out < target) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`${names.join('+')} ended early`);
        out += value.length;
      }
    },
    take() { const r = out; out = 0; return r; },
  };
}

function wsEncoder(role, c, data) {
  const Sender = wsLib('sender.js');
  let out = 0;
  // The socket-like object Sender writes to. It counts octets, and for a string (ws
  // hands unmasked text to socket.write as a string) it pays the UTF-8 encoding that
  // net.Socket would do natively, so that ws is not credited with skipping it.
  let scratch = Buffer.allocUnsafe(64 * 1024);
  const socket = {
    cork: noop,
    uncork: noop,
    write(b, cb) {
      if (typeof b === 'string') {
        if (b.length * 3 > scratch.length) scratch = Buffer.allocUnsafe(b.length * 3);
        out += scratch.utf8Write(b, 0);
      } else out += b.length;
      if (cb) cb();
      return true;
    },
  };
  const sender = new Sender(socket);
  const mask = role === 'client';
  const payload = data.text ?? Buffer.from(data.bytes); // a Buffer: ws's natural input
  const binary = data.text === undefined;
  return {
    send(n) { for (let i = 0; i < n; i++) sender.send(payload, { binary, mask, fin: true, compress: false }); },
    take() { const r = out; out = 0; return r; },
  };
}

const ENCODERS = {
  'wsflow-send': wsflowSendEncoder,
  'wsflow-serialize': wsflowSerializeEncoder,
  'wsflow-encoder-stream': (role, c, data) => wsflowStreamEncoder(role, c, data, false),
  'wsflow-message-encoder-streams': (role, c, data) => wsflowStreamEncoder(role, c, data, true),
  'ws': wsEncoder,
  'ws-js': wsEncoder,
};

function encodeBench(impl, role, c) {
  const data = payloadFor(c.kind, c.size);
  const enc = ENCODERS[impl](role, c, data);
  const n = c.encodeBatch;
  const expected = n * (headerSize(c.size, role === 'client') + c.size);
  return {
    units: c.unit === 'frames' ? n : n * c.size,
    prepare: () => null,
    run: () => enc.send(n, expected),
    check(batches) {
      const got = enc.take();
      if (got !== expected * batches) throw new Error(`${impl}: wrote ${got} octets, expected ${expected * batches}`);
    },
  };
}

// ---- masking ----------------------------------------------------------------------------

let wasm = null;
async function maskBench(impl, size) {
  const src = new Uint8Array(size);
  for (let i = 0; i < size; i++) src[i] = (i * 131 + 17) & 0xff;
  const dst = new Uint8Array(size);
  const key = 0x37fa213d;
  const keyBytes = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
  const calls = Math.max(1, Math.floor(MiB / size));
  let fn;
  switch (impl) {
    case 'mask-maskInto': {
      const { maskInto } = codec;
      fn = () => { for (let i = 0; i < calls; i++) maskInto(src, dst, 0, key, 0); };
      break;
    }
    case 'mask-fused32':
      fn = () => { for (let i = 0; i < calls; i++) fusedMask32(src, dst, 0, key); };
      break;
    case 'mask-byteloop':
      fn = () => { for (let i = 0; i < calls; i++) byteLoopMask(src, dst, 0, keyBytes); };
      break;
    case 'mask-bufferutil': {
      const bufferutil = require('bufferutil');
      // Buffers over the same memory as src/dst, so the check below sees the result.
      const s = Buffer.from(src.buffer, 0, size), d = Buffer.from(dst.buffer, 0, size), m = Buffer.from(keyBytes);
      fn = () => { for (let i = 0; i < calls; i++) bufferutil.mask(s, m, d, 0, size); };
      break;
    }
    case 'mask-wasm-copy':
    case 'mask-wasm-inplace': {
      if (!wasm) {
        const { createWasmMasker, wasmSimdSupported } = await import('../wasm-mask/mask.mjs');
        if (!wasmSimdSupported) throw new NotAvailable('n/a (no wasm SIMD)');
        wasm = createWasmMasker(2 * MiB);
      }
      const w = wasm;
      if (impl === 'mask-wasm-copy') fn = () => { for (let i = 0; i < calls; i++) w.maskInto(src, dst, 0, key, 0); };
      else {
        w.memory.set(src, 0);
        fn = () => { for (let i = 0; i < calls; i++) w.maskInPlace(0, size, key); };
      }
      break;
    }
    default:
      throw new Error(`unknown mask impl ${impl}`);
  }
  // Check the result once against a plain reference.
  const ref = new Uint8Array(size);
  byteLoopMask(src, ref, 0, keyBytes);
  if (impl === 'mask-wasm-inplace') {
    // Masking in place toggles: after an odd number of calls the memory holds src ^ key.
    wasm.memory.set(src, 0);
    wasm.maskInPlace(0, size, key);
    for (let i = 0; i < size; i++) if (wasm.memory[i] !== ref[i]) throw new Error(`${impl} wrong at ${i}`);
    wasm.memory.set(src, 0);
  } else {
    fn();
    for (let i = 0; i < size; i++) if (dst[i] !== ref[i]) throw new Error(`${impl} wrong at ${i}`);
  }
  return { units: calls * size, prepare: () => null, run: fn, check() {} };
}

// ---- the repetition loop ------------------------------------------------------------------

const benches = new Map();

async function getBench(row, impl) {
  const key = `${row.section}|${row.role}|${row.case.id}|${impl}`;
  let b = benches.get(key);
  if (!b) {
    if (row.section === 'decode') b = decodeBench(impl, row.role, row.case);
    else if (row.section === 'encode') b = encodeBench(impl, row.role, row.case);
    else b = await maskBench(impl, row.case.size);
    benches.set(key, b);
  }
  return b;
}

const cpuNow = typeof process.threadCpuUsage === 'function'
  ? () => { const u = process.threadCpuUsage(); return (u.user + u.system) / 1000; }
  : null;

/**
 * Runs batches until `ms` of timed work or `maxBatches`, whichever first. Only `run` is
 * timed, on two clocks: wall time, and the main thread's CPU time (which leaves out time
 * spent preempted by other processes; it advances in scheduler ticks, so single batches
 * are coarse but the sum over a repetition is not biased). The budget counts wall time.
 */
async function rep(bench, ms, maxBatches) {
  let wall = 0, cpu = 0, batches = 0;
  while (wall < ms && batches < maxBatches) {
    const input = bench.prepare();
    const c0 = cpuNow ? cpuNow() : 0;
    const t0 = performance.now();
    const p = bench.run(input);
    if (p !== undefined) await p;
    wall += performance.now() - t0;
    if (cpuNow) cpu += cpuNow() - c0;
    batches++;
  }
  bench.check(batches);
  return { units: batches * bench.units, ms: wall, cpuMs: cpuNow ? cpu : null, batches };
}

process.on('message', async (msg) => {
  try {
    if (msg.cmd === 'info') {
      const bu = wsLib('buffer-util.js');
      // ws exports its JS loop (named _mask) unless it wrapped bufferutil's native mask.
      process.send({ id: msg.id, result: { node: process.version, wsBufferUtil: bu.mask.name !== '_mask' } });
      return;
    }
    const bench = await getBench(msg.row, msg.impl);
    const result = await rep(bench, msg.ms, msg.maxBatches);
    process.send({ id: msg.id, result });
  } catch (e) {
    if (e instanceof NotAvailable) process.send({ id: msg.id, na: e.message });
    else process.send({ id: msg.id, error: String(e?.stack ?? e) });
  }
});
process.send({ ready: true });
