// The chat-room load generator, in its own Node process, forked by bench/fanout/run.mjs
// (one request over IPC, one answer, then it exits).
//
// N clients on raw node:net sockets join the server's room (the opening handshake, its
// Sec-WebSocket-Accept checked), then every client sends short text messages in a loop
// and counts the messages the others' sends deliver to it. It is written to be cheap:
//   - frames are PRE-MASKED once (a block of BATCH frames, each with its own random key)
//     and a client's sends are subarrays of that block, written in one `write` per batch;
//   - received bytes are never copied or decoded: frames are counted by reading their
//     headers and skipping their payloads (a header split across reads is gathered).
// Bounded in-flight: each client starts with `window` messages sent and sends one more
// per N-1 messages it receives. With every client at the same rate, a client receives
// N-1 messages per message each client sends, so the sends stay in step with delivery;
// in total at most N*(N-1)*window deliveries are outstanding at any moment, whatever the
// server does (it never stalls either: see bench/fanout/README.md).
//
// Request: { port, clients, size, window, warmMs, measureMs }
// Marks on the way: { mark: 'start' | 'end' } when the measured window opens and closes.
// Answer: { delivered, sent, seconds, rate, loadCpu, errors, unexpected, joined }
import { randomBytes } from 'node:crypto';
import { handshake } from '../lib/handshake.mjs';

/** The most frames one client writes at once. */
const BATCH = 256;
/** Handshakes in flight while the room fills. */
const CONNECT_CONCURRENCY = 32;

/** `count` masked client text frames of `size` printable ASCII octets (< 126), each with its own key, back to back. */
function maskedFrames(count, size) {
  const frame = 2 + 4 + size;
  const out = Buffer.allocUnsafe(count * frame);
  const keys = randomBytes(4 * count);
  for (let f = 0; f < count; f++) {
    const p = f * frame;
    out[p] = 0x81; // FIN + text
    out[p + 1] = 0x80 | size; // MASK + length
    keys.copy(out, p + 2, 4 * f, 4 * f + 4);
    for (let i = 0; i < size; i++) out[p + 6 + i] = (0x61 + (i % 26)) ^ out[p + 2 + (i & 3)];
  }
  return { block: out, frameSize: frame };
}

/**
 * One client: counts the server's (unmasked) frames by header. Data frames with FIN whose
 * opcode is text and payload length `size` are deliveries; anything else is `unexpected`.
 */
class Client {
  received = 0;
  sent = 0;
  unexpected = 0;
  /** Received messages not yet paid for with a send of ours. */
  credit = 0;
  /** Payload octets still to skip from the frame being read. */
  #skip = 0;
  /** A frame header split across reads. */
  #partial = Buffer.alloc(14);
  #partialLength = 0;

  constructor(socket, size, onMessages) {
    this.socket = socket;
    this.size = size;
    this.onMessages = onMessages;
  }

  /** Feeds received bytes; returns how many deliveries they completed. */
  feed(chunk) {
    let pos = 0;
    const end = chunk.length;
    let count = 0;
    if (this.#skip > 0) {
      const n = Math.min(this.#skip, end);
      this.#skip -= n;
      pos = n;
    }
    if (this.#partialLength > 0) {
      // Gather the rest of the header, then go on as usual.
      while (pos < end && !this.#headerComplete(this.#partial, 0, this.#partialLength)) this.#partial[this.#partialLength++] = chunk[pos++];
      if (!this.#headerComplete(this.#partial, 0, this.#partialLength)) return 0;
      const skip = this.#frame(this.#partial, 0);
      this.#partialLength = 0;
      if (skip < 0) count++;
      const payload = skip < 0 ? -skip - 1 : skip;
      const n = Math.min(payload, end - pos);
      pos += n;
      this.#skip = payload - n;
    }
    while (pos < end) {
      if (!this.#headerComplete(chunk, pos, end - pos)) {
        chunk.copy(this.#partial, 0, pos, end);
        this.#partialLength = end - pos;
        break;
      }
      const header = this.#headerLength(chunk, pos);
      const skip = this.#frame(chunk, pos);
      if (skip < 0) count++;
      const payload = skip < 0 ? -skip - 1 : skip;
      pos += header;
      const n = Math.min(payload, end - pos);
      pos += n;
      this.#skip = payload - n;
    }
    this.received += count;
    return count;
  }

  #headerLength(bytes, at) {
    const len7 = bytes[at + 1] & 0x7f;
    return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (bytes[at + 1] & 0x80 ? 4 : 0);
  }

  #headerComplete(bytes, at, available) {
    return available >= 2 && available >= this.#headerLength(bytes, at);
  }

  /** The payload length of the frame whose header starts at `at`, as -(length+1) when it is a delivery. */
  #frame(bytes, at) {
    const b0 = bytes[at];
    const len7 = bytes[at + 1] & 0x7f;
    let length = len7;
    if (len7 === 126) length = bytes.readUInt16BE(at + 2);
    else if (len7 === 127) length = bytes.readUInt32BE(at + 2) * 0x100000000 + bytes.readUInt32BE(at + 6);
    if (b0 === 0x81 && length === this.size) return -(length + 1);
    this.unexpected++;
    return length;
  }
}

async function run({ port, clients: n, size, window, warmMs, measureMs }) {
  const { block, frameSize } = maskedFrames(BATCH, size);
  const errors = [];
  /** @type {Client[]} */
  const clients = [];
  let phase = 'join'; // 'join' | 'run' | 'stop'

  const send = (client, count) => {
    for (let left = count; left > 0; ) {
      const k = Math.min(left, BATCH);
      client.socket.write(block.subarray(0, k * frameSize));
      client.sent += k;
      left -= k;
    }
  };

  // ---- join: every client connects (bounded concurrency) ------------------------------
  for (let i = 0; i < n; i += CONNECT_CONCURRENCY) {
    const opened = await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, n - i) }, () => handshake(port)));
    for (const { socket, rest } of opened) {
      const client = new Client(socket, size);
      clients.push(client);
      socket.on('error', (error) => {
        if (phase !== 'stop') errors.push(String(error.message));
      });
      socket.on('close', () => {
        if (phase !== 'stop') errors.push('a client was disconnected');
      });
      socket.on('data', (chunk) => {
        const got = client.feed(chunk);
        if (phase !== 'run' || got === 0) return;
        client.credit += got;
        if (client.credit >= n - 1) {
          const k = Math.floor(client.credit / (n - 1));
          client.credit -= k * (n - 1);
          send(client, k);
        }
      });
      socket.resume();
      if (rest.length > 0) client.feed(rest);
    }
  }

  // ---- check the room: one message from each client reaches every other ---------------
  // A server may add a connection to its room a moment after the 101, so wait a little
  // first; then every client must see the other N-1 hellos within 10 s.
  await sleep(200);
  for (const client of clients) send(client, 1);
  const joinedBy = Date.now() + 10_000;
  while (clients.some((c) => c.received < n - 1) && Date.now() < joinedBy && errors.length === 0) await sleep(10);
  const joined = clients.every((c) => c.received === n - 1);
  if (!joined) {
    phase = 'stop';
    for (const c of clients) c.socket.destroy();
    const got = clients.map((c) => c.received);
    return { joined: false, errors: [...errors, `room check: clients received ${Math.min(...got)}-${Math.max(...got)} of ${n - 1} hellos`] };
  }

  // ---- run: warm-up, then the measured window -----------------------------------------
  for (const c of clients) c.received = 0;
  phase = 'run';
  for (const client of clients) send(client, window);
  await sleep(warmMs);
  const count = () => clients.reduce((sum, c) => sum + c.received, 0);
  const sentCount = () => clients.reduce((sum, c) => sum + c.sent, 0);
  const cpu0 = process.cpuUsage();
  const delivered0 = count();
  const sent0 = sentCount();
  const t0 = process.hrtime.bigint();
  process.send({ mark: 'start' });
  await sleep(measureMs);
  const t1 = process.hrtime.bigint();
  const delivered1 = count();
  const sent1 = sentCount();
  const cpu = process.cpuUsage(cpu0);
  process.send({ mark: 'end' });
  phase = 'stop';
  for (const c of clients) c.socket.destroy();

  const seconds = Number(t1 - t0) / 1e9;
  const delivered = delivered1 - delivered0;
  return {
    joined: true,
    delivered,
    sent: sent1 - sent0,
    seconds,
    rate: delivered / seconds,
    loadCpu: (cpu.user + cpu.system) / 1e6,
    unexpected: clients.reduce((sum, c) => sum + c.unexpected, 0),
    errors,
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

process.once('message', (request) => {
  run(request).then(
    (result) => process.send({ result }, () => process.exit(0)),
    (error) => process.send({ error: String(error?.stack ?? error) }, () => process.exit(1)),
  );
});
process.send({ ready: true });
