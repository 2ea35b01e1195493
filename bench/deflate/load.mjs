// The load generator of the permessage-deflate bench, in its own process, driven over IPC
// by bench/deflate/run.mjs.
//
// It offers what browsers offer (`permessage-deflate; client_max_window_bits`) on raw
// node:net sockets and checks that the 101 accepts permessage-deflate. Its messages are
// JSON-like texts from a pool of 64 different ones per size, each compressed once, on its own
// (a sender may always choose not to refer to earlier messages, RFC 7692 §7.2.1), masked
// and written again and again: compressing costs the generator nothing during the measure.
// Echoes are counted from frame headers (payloads skipped); they are not inflated there:
// `verify`, run before each measurement, inflates every echo of one connection with a
// streaming inflater (the server's context) and compares it with what was sent.
//
// Requests ({ id, op, ... }) and what they answer:
//   verify { port, size }  -> { messages, matched, compressed, wireRatio }
//   echo   { port, size, conns, batch, window, warmMs, measureMs, maxMessages }
//          -> { messages, plainBytes, wireBytes, seconds, sent, echoed, loadCpu, errors, compressed }
//          and { mark: 'start' | 'end' } when the measured window opens and closes
//   open   { port, count, concurrency, messages, size, maxMs } -> { opened, failed, echoed, compressed, seconds } (kept open)
//   close  {} -> { closed }
import { randomBytes } from 'node:crypto';
import { constants, createInflateRaw, deflateRawSync } from 'node:zlib';
import { handshake as rawHandshake } from '../lib/handshake.mjs';

const OFFER = 'permessage-deflate; client_max_window_bits';
const POOL = 64;
const { level = 6, memLevel = 8 } = JSON.parse(process.argv[2] ?? '{}');

// ---- messages ---------------------------------------------------------------------------

/** A JSON-like text of exactly `size` ASCII octets, different per seed. */
function jsonText(size, seed) {
  let state = (seed * 2654435761) >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>>= 0);
  };
  const names = ['ada', 'brian', 'chen', 'dora', 'emil', 'fatima', 'grace', 'hugo'];
  const tags = ['alpha', 'beta', 'release', 'staging', 'eu-west', 'us-east'];
  let out = `{"seq":${seed},"items":[`;
  for (let id = 1; out.length < size; id++) {
    const name = names[next() % names.length];
    out +=
      `${id > 1 ? ',' : ''}{"id":${id},"user":"${name}-${next() % 100000}","email":"${name}.${next() % 1000}@example.com",` +
      `"active":${next() % 2 === 0},"score":${(next() % 100000) / 100},"tags":["${tags[next() % 6]}","${tags[next() % 6]}"]}`;
  }
  return Buffer.from(out.slice(0, size), 'latin1');
}

/** The pool of messages of `size` octets and their compressed payloads (each on its own, `00 00 ff ff` removed). */
const pools = new Map();
function poolOf(size) {
  let pool = pools.get(size);
  if (pool === undefined) {
    pool = Array.from({ length: POOL }, (_, i) => {
      const plain = jsonText(size, i + 1);
      const deflated = deflateRawSync(plain, { level, memLevel, finishFlush: constants.Z_SYNC_FLUSH });
      return { plain, compressed: deflated.subarray(0, deflated.length - 4) };
    });
    pools.set(size, pool);
  }
  return pool;
}

/** One masked text frame with RSV1 (a compressed message, RFC 7692 §6). */
function maskedFrame(payload) {
  const size = payload.length;
  const header = 2 + (size < 126 ? 0 : size < 0x10000 ? 2 : 8) + 4;
  const out = Buffer.allocUnsafe(header + size);
  let p = 0;
  out[p++] = 0x80 | 0x40 | 0x1;
  if (size < 126) out[p++] = 0x80 | size;
  else if (size < 0x10000) {
    out[p++] = 0x80 | 126;
    out.writeUInt16BE(size, p);
    p += 2;
  } else {
    out[p++] = 0x80 | 127;
    out.writeUInt32BE(0, p);
    out.writeUInt32BE(size, p + 4);
    p += 8;
  }
  randomBytes(4).copy(out, p);
  const k = p;
  p += 4;
  for (let i = 0; i < size; i++) out[p + i] = payload[i] ^ out[k + (i & 3)];
  return out;
}

/** `count` frames cycling through the pool from `start`, in one buffer. */
function batchOf(size, count, start = 0) {
  const pool = poolOf(size);
  return Buffer.concat(Array.from({ length: count }, (_, i) => maskedFrame(pool[(start + i) % POOL].compressed)));
}

// ---- handshake --------------------------------------------------------------------------

/** Opens a connection offering permessage-deflate; resolves once the 101 accepted it. */
const handshake = (port) => rawHandshake(port, { timeoutMs: 15_000, extensions: OFFER });

// ---- reading ----------------------------------------------------------------------------

/**
 * Counts the data messages of an unmasked server stream from their headers, skipping the
 * payloads; with `keep`, also hands each message's payload and RSV1 to `keep`.
 */
class FrameCounter {
  messages = 0;
  wireBytes = 0;
  compressed = 0;
  #keep;
  #skip = 0;
  #head = Buffer.alloc(14);
  #headLength = 0;
  #fin = false;
  #data = false;
  #rsv1 = false;
  #pieces = [];

  constructor(keep) {
    this.#keep = keep;
  }

  push(chunk) {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.#skip > 0) {
        const take = Math.min(this.#skip, chunk.length - pos);
        if (this.#keep) this.#pieces.push(chunk.subarray(pos, pos + take));
        this.#skip -= take;
        pos += take;
        if (this.#skip === 0) this.#done();
        continue;
      }
      this.#head[this.#headLength++] = chunk[pos++];
      if (this.#headLength < 2) continue;
      const b1 = this.#head[1] & 0x7f;
      const size = b1 < 126 ? 2 : b1 === 126 ? 4 : 10;
      if (this.#headLength < size) continue;
      this.#headLength = 0;
      const b0 = this.#head[0];
      const length = b1 < 126 ? b1 : b1 === 126 ? this.#head.readUInt16BE(2) : this.#head.readUInt32BE(2) * 0x100000000 + this.#head.readUInt32BE(6);
      const opcode = b0 & 0x0f;
      this.#fin = (b0 & 0x80) !== 0;
      this.#data = opcode < 8;
      if (this.#data && opcode !== 0) this.#rsv1 = (b0 & 0x40) !== 0;
      if (this.#data) this.wireBytes += length;
      this.#skip = length;
      if (length === 0) this.#done();
    }
  }

  #done() {
    if (!this.#data) return;
    if (!this.#fin) return;
    this.messages++;
    if (this.#rsv1) this.compressed++;
    if (this.#keep) {
      this.#keep(Buffer.concat(this.#pieces), this.#rsv1);
      this.#pieces = [];
    }
  }
}

// ---- phases -----------------------------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.now();
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Sends the pool once on one connection and inflates every echo with the server's context. */
async function verify({ port, size }) {
  const pool = poolOf(size);
  const { socket, rest } = await handshake(port);
  const inflater = createInflateRaw({ windowBits: 15 });
  const out = [];
  inflater.on('data', (c) => out.push(c));
  let chain = Promise.resolve();
  let matched = 0;
  let wire = 0;
  let plain = 0;
  let received = 0;
  const counter = new FrameCounter((payload, rsv1) => {
    const index = received++;
    wire += payload.length;
    chain = chain.then(
      () =>
        new Promise((resolve) => {
          const done = (data) => {
            plain += data.length;
            if (data.equals(pool[index].plain)) matched++;
            resolve();
          };
          if (!rsv1) return done(payload);
          inflater.write(Buffer.concat([payload, Buffer.from([0, 0, 0xff, 0xff])]));
          inflater.flush(constants.Z_SYNC_FLUSH, () => {
            const data = Buffer.concat(out.splice(0));
            done(data);
          });
        }),
    );
  });
  socket.on('data', (chunk) => counter.push(chunk));
  socket.on('error', () => {});
  if (rest.length > 0) counter.push(rest);
  socket.resume();
  socket.write(batchOf(size, POOL));
  const until = now() + 20_000;
  while (counter.messages < POOL && now() < until) await sleep(10);
  await chain;
  socket.destroy();
  inflater.close();
  return { messages: counter.messages, matched, compressed: counter.compressed, wireRatio: plain === 0 ? 0 : wire / plain };
}

async function echo({ port, size, conns, batch, window, warmMs, measureMs, maxMessages }) {
  const perConnMax = Math.floor(maxMessages / conns);
  const sides = [];
  for (let i = 0; i < conns; i++) sides.push(await handshake(port));
  let running = true;
  let errors = 0;
  const states = sides.map(({ socket, rest }, i) => {
    // Each connection cycles through the pool from its own place.
    const buffer = batchOf(size, batch, i * 7);
    const state = { socket, counter: new FrameCounter(), sent: 0 };
    state.refill = () => {
      while (running && state.sent - state.counter.messages <= window - batch && state.sent + batch <= perConnMax) {
        socket.write(buffer);
        state.sent += batch;
      }
    };
    socket.on('data', (chunk) => {
      state.counter.push(chunk);
      state.refill();
    });
    socket.on('error', () => errors++);
    if (rest.length > 0) state.counter.push(rest);
    socket.resume();
    return state;
  });
  const total = () => states.reduce((n, s) => n + s.counter.messages, 0);
  const wireTotal = () => states.reduce((n, s) => n + s.counter.wireBytes, 0);
  const compressedTotal = () => states.reduce((n, s) => n + s.counter.compressed, 0);
  for (const s of states) s.refill();
  await sleep(warmMs);
  process.send({ mark: 'start' });
  const m0 = total();
  const w0 = wireTotal();
  const k0 = compressedTotal();
  const t1 = now();
  const c1 = cpuNow();
  while (now() - t1 < measureMs && states.some((s) => s.sent + batch <= perConnMax || s.counter.messages < s.sent)) {
    await sleep(Math.min(50, measureMs - (now() - t1)));
  }
  const m1 = total();
  const w1 = wireTotal();
  const k1 = compressedTotal();
  const t2 = now();
  const c2 = cpuNow();
  process.send({ mark: 'end' });
  running = false;
  const drainUntil = now() + 5000;
  while (now() < drainUntil && states.some((s) => s.counter.messages < s.sent)) await sleep(10);
  const sent = states.reduce((n, s) => n + s.sent, 0);
  const echoed = total();
  for (const s of states) s.socket.destroy();
  const seconds = (t2 - t1) / 1000;
  return { messages: m1 - m0, plainBytes: (m1 - m0) * size, wireBytes: w1 - w0, compressed: k1 - k0, seconds, sent, echoed, loadCpu: (c2 - c1) / seconds, errors };
}

const opened = [];

/** Opens `count` connections (`concurrency` at a time); each sends `messages` compressed messages and gets them back. */
async function open({ port, count, concurrency, messages, size, maxMs }) {
  const started = now();
  let next = 0;
  let failed = 0;
  let echoed = 0;
  let compressed = 0;
  const one = async (i) => {
    const { socket, rest } = await handshake(port);
    opened.push(socket);
    const counter = new FrameCounter();
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, 20_000);
      const check = () => {
        if (counter.messages >= messages) {
          clearTimeout(timer);
          socket.off('data', onData);
          resolve();
        }
      };
      const onData = (chunk) => {
        counter.push(chunk);
        check();
      };
      socket.on('data', onData);
      socket.on('error', () => {});
      if (rest.length > 0) counter.push(rest);
      socket.resume();
      socket.write(batchOf(size, messages, i));
      check();
    });
    echoed += counter.messages;
    compressed += counter.compressed;
  };
  const worker = async () => {
    while (next < count && now() - started < maxMs) {
      const i = next++;
      try {
        await one(i);
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { opened: opened.length, failed, echoed, compressed, seconds: (now() - started) / 1000 };
}

async function closeAll() {
  const n = opened.length;
  for (const socket of opened.splice(0)) socket.destroy();
  return { closed: n };
}

process.on('message', async (message) => {
  const { id, op } = message;
  try {
    let result;
    if (op === 'verify') result = await verify(message);
    else if (op === 'echo') result = await echo(message);
    else if (op === 'open') result = await open(message);
    else if (op === 'close') result = await closeAll();
    else if (op === 'exit') {
      process.send({ id }, () => process.exit(0));
      return;
    } else throw new Error(`unknown op ${op}`);
    process.send({ id, result });
  } catch (error) {
    process.send({ id, error: error instanceof Error ? error.message : String(error) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true, pid: process.pid });
