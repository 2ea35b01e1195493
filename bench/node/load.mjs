// The load generator, in its own process, driven over IPC by bench/node/run.mjs.
//
// It speaks just enough WebSocket on raw node:net sockets to stay cheap: it completes
// the opening handshake (checking Sec-WebSocket-Accept), then writes PRE-MASKED client
// frames, built once, in large batches (one write of the same buffer again and again),
// and counts the echoed frames by reading only their headers (payloads are skipped, but
// one echo in 64 is compared with what was sent, as far as it lies in the buffer read).
//
// Requests ({ id, op, ... }) and what they answer:
//   echo       { port, size, opcode, conns, batch, window, warmMs, measureMs, maxMessages }
//              -> { messages, payloadBytes, seconds, echoed, sent, loadCpu, errors, checked, corrupt }
//              and, on the way, { mark: 'start' | 'end' } when the measured window opens/closes
//   handshakes { port, total, concurrency, maxMs } -> { completed, seconds, failed }
//   open       { port, count, concurrency, maxMs } -> { opened, failed, seconds } (kept open)
//   close      {} -> { closed }  (the sockets opened by `open`)
import { randomBytes } from 'node:crypto';
import { handshake } from '../lib/handshake.mjs';

// ---- frames -----------------------------------------------------------------------------

/** `count` masked client frames of `size` payload octets each, each with its own key, in one buffer. */
export function maskedFrames(count, size, opcode) {
  const header = 2 + (size < 126 ? 0 : size < 0x10000 ? 2 : 8) + 4;
  const frame = header + size;
  const out = Buffer.allocUnsafe(count * frame);
  const keys = randomBytes(4 * count);
  const payload = Buffer.alloc(size);
  // Text: printable ASCII (valid UTF-8); binary: a byte ramp.
  for (let i = 0; i < size; i++) payload[i] = opcode === 1 ? 0x61 + (i % 26) : i & 0xff;
  for (let f = 0; f < count; f++) {
    let p = f * frame;
    out[p++] = 0x80 | opcode;
    if (size < 126) out[p++] = 0x80 | size;
    else if (size < 0x10000) {
      out[p++] = 0x80 | 126;
      out.writeUInt16BE(size, p);
      p += 2;
    } else {
      out[p++] = 0x80 | 127;
      out.writeUInt32BE(Math.floor(size / 0x100000000), p);
      out.writeUInt32BE(size >>> 0, p + 4);
      p += 8;
    }
    keys.copy(out, p, 4 * f, 4 * f + 4);
    const k = p;
    p += 4;
    for (let i = 0; i < size; i++) out[p + i] = payload[i] ^ out[k + (i & 3)];
  }
  return { buffer: out, frameSize: frame, payload };
}

/**
 * Counts the data frames with FIN in an unmasked (server-to-client) byte stream by reading
 * their headers and skipping their payloads; headers split across chunks are gathered.
 */
class FrameCounter {
  messages = 0;
  payloadBytes = 0;
  /** Sampled echoed payloads compared with what was sent, and how many differed. */
  checked = 0;
  corrupt = 0;
  #expected;
  #frames = 0;

  /** @param expected the payload every echoed data frame must carry (sampled: 1 frame in 64 is compared) */
  constructor(expected) {
    this.#expected = expected;
  }

  #skip = 0; // payload octets of the current frame still to come
  #countCurrent = false; // whether the current frame ends a data message
  #head = Buffer.alloc(14);
  #headLength = 0;
  closed = false;

  push(chunk) {
    let pos = 0;
    const n = chunk.length;
    while (pos < n) {
      if (this.#skip > 0) {
        const take = Math.min(this.#skip, n - pos);
        this.#skip -= take;
        pos += take;
        if (this.#skip === 0) this.#frameDone();
        continue;
      }
      if (this.#headLength === 0 && n - pos >= 2) {
        const b1 = chunk[pos + 1] & 0x7f;
        const size = b1 < 126 ? 2 : b1 === 126 ? 4 : 10;
        if (n - pos >= size) {
          pos = this.#header(chunk, pos, size, true);
          continue;
        }
      }
      // A header split across chunks.
      this.#head[this.#headLength++] = chunk[pos++];
      if (this.#headLength >= 2) {
        const b1 = this.#head[1] & 0x7f;
        const size = b1 < 126 ? 2 : b1 === 126 ? 4 : 10;
        if (this.#headLength === size) {
          this.#headLength = 0;
          this.#header(this.#head, 0, size, false);
        }
      }
    }
  }

  /** Reads a whole header at buf[pos]; returns the position after it. */
  #header(buf, pos, size, payloadFollows) {
    const b0 = buf[pos];
    const b1 = buf[pos + 1] & 0x7f;
    let length = b1;
    if (b1 === 126) length = buf.readUInt16BE(pos + 2);
    else if (b1 === 127) length = buf.readUInt32BE(pos + 2) * 0x100000000 + buf.readUInt32BE(pos + 6);
    const opcode = b0 & 0x0f;
    if (opcode === 8) this.closed = true;
    this.#countCurrent = (b0 & 0x80) !== 0 && opcode < 8;
    if (this.#countCurrent) {
      this.payloadBytes += length;
      // Check a sample of the echoes: the payload's first octets that are in this buffer.
      if ((this.#frames++ & 63) === 0 && this.#expected !== undefined && payloadFollows) {
        const start = pos + size;
        const n = Math.min(length, buf.length - start);
        this.checked++;
        if (length !== this.#expected.length || buf.compare(this.#expected, 0, n, start, start + n) !== 0) this.corrupt++;
      }
    }
    if (length === 0) this.#frameDone();
    else this.#skip = length;
    return pos + size;
  }

  #frameDone() {
    if (this.#countCurrent) this.messages++;
  }
}

// ---- phases -----------------------------------------------------------------------------

const now = () => performance.now();
const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function echo(request) {
  const { port, size, opcode, conns, batch, window, warmMs, measureMs, maxMessages } = request;
  const { buffer, payload } = maskedFrames(batch, size, opcode);
  const perConnMax = Math.floor(maxMessages / conns);
  const sides = [];
  for (let i = 0; i < conns; i++) sides.push(await handshake(port));
  let running = true;
  let errors = 0;
  const states = sides.map(({ socket, rest }) => {
    const state = { socket, counter: new FrameCounter(payload), sent: 0 };
    const refill = () => {
      while (running && state.sent - state.counter.messages <= window - batch && state.sent + batch <= perConnMax) {
        socket.write(buffer);
        state.sent += batch;
      }
    };
    state.refill = refill;
    socket.on('data', (chunk) => {
      state.counter.push(chunk);
      refill();
    });
    socket.on('error', () => errors++);
    if (rest.length > 0) state.counter.push(rest);
    socket.resume();
    return state;
  });
  const total = () => states.reduce((n, s) => n + s.counter.messages, 0);
  const totalBytes = () => states.reduce((n, s) => n + s.counter.payloadBytes, 0);

  const t0 = now();
  for (const s of states) s.refill();
  await sleep(warmMs);
  process.send({ mark: 'start' });
  const m0 = total();
  const b0 = totalBytes();
  const t1 = now();
  const c1 = cpuNow();
  // Measure until measureMs passed or every connection reached its message cap.
  while (now() - t1 < measureMs && states.some((s) => s.sent + batch <= perConnMax || s.counter.messages < s.sent)) {
    await sleep(Math.min(50, measureMs - (now() - t1)));
  }
  const m1 = total();
  const b1 = totalBytes();
  const t2 = now();
  const c2 = cpuNow();
  process.send({ mark: 'end' });
  running = false;
  // Let what is in flight come back (bounded), then hang up.
  const drainUntil = now() + 3000;
  while (now() < drainUntil && states.some((s) => s.counter.messages < s.sent)) await sleep(10);
  const sent = states.reduce((n, s) => n + s.sent, 0);
  const echoed = total();
  for (const s of states) s.socket.destroy();
  return {
    messages: m1 - m0,
    payloadBytes: b1 - b0,
    seconds: (t2 - t1) / 1000,
    echoed,
    sent,
    loadCpu: (c2 - c1) / ((t2 - t1) / 1000),
    totalSeconds: (now() - t0) / 1000,
    errors,
    checked: states.reduce((n, s) => n + s.counter.checked, 0),
    corrupt: states.reduce((n, s) => n + s.counter.corrupt, 0),
  };
}

async function handshakes({ port, total, concurrency, maxMs }) {
  let started = 0;
  let completed = 0;
  let failed = 0;
  const t0 = now();
  const worker = async () => {
    while (started < total && now() - t0 < maxMs) {
      started++;
      try {
        const { socket } = await handshake(port);
        socket.destroy();
        completed++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { completed, failed, seconds: (now() - t0) / 1000 };
}

let idle = [];

async function open({ port, count, concurrency, maxMs }) {
  let started = 0;
  let failed = 0;
  const t0 = now();
  const worker = async () => {
    while (started < count && now() - t0 < maxMs) {
      started++;
      try {
        const { socket } = await handshake(port);
        socket.on('error', () => {});
        idle.push(socket);
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { opened: idle.length, failed, seconds: (now() - t0) / 1000 };
}

async function close() {
  const closed = idle.length;
  for (const socket of idle) socket.destroy();
  idle = [];
  return { closed };
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

const ops = { echo, handshakes, open, close };

process.on('message', async (message) => {
  const { id, op } = message;
  try {
    process.send({ id, result: await ops[op](message) });
  } catch (error) {
    process.send({ id, error: String(error?.stack ?? error) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true, pid: process.pid });
