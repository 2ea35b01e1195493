/**
 * A soak load generator process (Node, started by `soak_run.ts` with `fork`): it opens
 * many WebSocket connections on raw sockets, then sends checksummed messages at a given
 * rate and verifies every echo. Each message is built and masked here (RFC 6455 §5.3),
 * binary or text, sometimes in fragments, and carries the connection number, a sequence
 * number and a CRC-32 of its body, so an echo that is corrupt, out of order or of the wrong
 * type is caught. Pings go between messages; their Pongs are checked too.
 *
 * Talks to its parent over IPC: it receives `{ op: 'start', rate }` and `{ op: 'stop' }`,
 * and sends `connected`, `progress` (every second) and `final` messages.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import process from 'node:process';
import { acceptOf, closeCodeOf, closePayload, crc32, keyOf, maskedFrame, Opcode, parseResponseHead, ServerFrameReader, upgradeRequest } from './wire.ts';

/** What the parent passes (as JSON in argv[2]). */
export interface WorkerConfig {
  port: number;
  /** This worker's number; connection numbers are `worker * 1e6 + i`. */
  worker: number;
  connections: number;
  /** Connection attempts in flight at once. */
  concurrency: number;
  /** Largest message body in bytes (bodies are 16 bytes to this). */
  maxSize: number;
  /** Milliseconds a connection may take to open. */
  connectTimeoutMs: number;
  /** Local addresses to connect from, in turn (spreads ephemeral ports). */
  localAddresses: string[];
}

/** Counters reported in `progress` and `final`. */
export interface WorkerCounts {
  worker: number;
  /** Connections whose handshake completed. */
  opened: number;
  /** Connections that failed to open. */
  connectFailed: number;
  /** Connections open now. */
  open: number;
  /** Connections that closed or failed before the parent's stop. */
  lost: number;
  sent: number;
  sentBytes: number;
  /** Echoes that matched their message (type, order, length, checksum). */
  echoed: number;
  /** Echoes that did not. */
  corrupt: number;
  /** Messages still awaiting their echo. */
  outstanding: number;
  pings: number;
  pongs: number;
  /** Pongs that did not match their Ping. */
  badPongs: number;
  /** Echo round trips in ms: median, 99th percentile, largest (over the last 65 536). */
  rttP50: number;
  rttP99: number;
  rttMax: number;
  /** Closing: connections that got our Close answered with 1000 and then the TCP close. */
  cleanClosed: number;
  /** Close codes received other than 1000, by code. */
  otherCloses: Record<string, number>;
  /** First few error descriptions. */
  errors: string[];
}

interface Expected {
  seq: number;
  opcode: number;
  length: number;
  crc: number;
  sentAt: number;
}

const RTT_SAMPLES = 65536;

class Counter {
  readonly c: WorkerCounts;
  readonly rtt = new Float64Array(RTT_SAMPLES);
  rttCount = 0;

  constructor(worker: number) {
    this.c = {
      worker,
      opened: 0,
      connectFailed: 0,
      open: 0,
      lost: 0,
      sent: 0,
      sentBytes: 0,
      echoed: 0,
      corrupt: 0,
      outstanding: 0,
      pings: 0,
      pongs: 0,
      badPongs: 0,
      rttP50: 0,
      rttP99: 0,
      rttMax: 0,
      cleanClosed: 0,
      otherCloses: {},
      errors: [],
    };
  }

  error(text: string): void {
    if (this.c.errors.length < 20) this.c.errors.push(text);
  }

  addRtt(ms: number): void {
    this.rtt[this.rttCount++ % RTT_SAMPLES] = ms;
    if (ms > this.c.rttMax) this.c.rttMax = ms;
  }

  snapshot(): WorkerCounts {
    const n = Math.min(this.rttCount, RTT_SAMPLES);
    if (n > 0) {
      const sorted = this.rtt.slice(0, n).sort();
      this.c.rttP50 = Math.round(sorted[Math.floor(n * 0.5)] * 10) / 10;
      this.c.rttP99 = Math.round(sorted[Math.min(n - 1, Math.floor(n * 0.99))] * 10) / 10;
    }
    this.c.rttMax = Math.round(this.c.rttMax * 10) / 10;
    return { ...this.c, otherCloses: { ...this.c.otherCloses }, errors: [...this.c.errors] };
  }
}

/** Printable ASCII, the alphabet of text bodies. */
function asciiOf(bytes: Uint8Array): Uint8Array {
  for (let i = 0; i < bytes.length; i++) bytes[i] = 0x21 + (bytes[i] % 94);
  return bytes;
}

/**
 * A message body: binary `[u32 connection][u32 seq][random][u32 crc of all before]`; text
 * `conn:seq:` in hex, printable ASCII, then the CRC in 8 hex digits.
 */
function bodyOf(connection: number, seq: number, size: number, text: boolean): Uint8Array {
  if (!text) {
    const body = randomBytes(Math.max(12, size));
    body.writeUInt32BE(connection >>> 0, 0);
    body.writeUInt32BE(seq >>> 0, 4);
    body.writeUInt32BE(crc32(body, 0, body.length - 4), body.length - 4);
    return body;
  }
  const prefix = Buffer.from(`${connection.toString(16)}:${seq.toString(16)}:`, 'latin1');
  const body = Buffer.alloc(Math.max(prefix.length + 8, size));
  prefix.copy(body);
  body.set(asciiOf(randomBytes(body.length - 8 - prefix.length)), prefix.length);
  body.write(crc32(body, 0, body.length - 8).toString(16).padStart(8, '0'), body.length - 8, 'latin1');
  return body;
}

/** Checks the checksum a body carries and returns its sequence number, or -1. */
function checkBody(connection: number, payload: Uint8Array, text: boolean): number {
  const b = Buffer.from(payload.buffer, payload.byteOffset, payload.length);
  if (!text) {
    if (b.length < 12 || b.readUInt32BE(0) !== connection >>> 0) return -1;
    return b.readUInt32BE(b.length - 4) === crc32(b, 0, b.length - 4) ? b.readUInt32BE(4) : -1;
  }
  if (b.length < 8) return -1;
  if (b.toString('latin1', b.length - 8) !== crc32(b, 0, b.length - 8).toString(16).padStart(8, '0')) return -1;
  const match = /^([0-9a-f]+):([0-9a-f]+):/.exec(b.toString('latin1', 0, Math.min(b.length, 24)));
  if (match === null || parseInt(match[1], 16) !== connection) return -1;
  return parseInt(match[2], 16);
}

class Client {
  readonly id: number;
  readonly socket: Socket;
  readonly reader = new ServerFrameReader();
  readonly expected: Expected[] = [];
  readonly pings: { payload: Buffer; sentAt: number }[] = [];
  seq = 0;
  /** Fragments of a message being received. */
  parts: Uint8Array[] = [];
  partsOpcode = 0;
  state: 'opening' | 'open' | 'closing' | 'closed' = 'opening';
  gotClose = false;

  constructor(id: number, socket: Socket) {
    this.id = id;
    this.socket = socket;
  }
}

const config = JSON.parse(process.argv[2] ?? '{}') as WorkerConfig;
const counter = new Counter(config.worker);
const counts = counter.c;
const clients: Client[] = [];
let stopping = false;

function send(message: unknown): void {
  process.send?.(message);
}

/** A connection ended other than by our closing handshake (before stop: lost). */
function lose(client: Client, why: string): void {
  const was = client.state;
  if (was === 'closed') return;
  client.state = 'closed';
  if (was === 'open' || was === 'closing') counts.open--;
  if (was === 'open') counts.lost++;
  counter.error(`connection ${client.id} ${was === 'open' ? 'lost' : 'did not close cleanly'}: ${why}`);
  client.socket.destroy();
}

function onFrame(client: Client, opcode: number, fin: boolean, payload: Uint8Array): void {
  if (opcode === Opcode.Pong) {
    const ping = client.pings.shift();
    if (ping === undefined || Buffer.compare(ping.payload, Buffer.from(payload)) !== 0) counts.badPongs++;
    else counts.pongs++;
    return;
  }
  if (opcode === Opcode.Ping) return; // the server does not ping; ignore
  if (opcode === Opcode.Close) {
    client.gotClose = true;
    const code = closeCodeOf(payload);
    if (code !== 1000 || client.state !== 'closing') counts.otherCloses[code] = (counts.otherCloses[code] ?? 0) + 1;
    if (client.state === 'open') lose(client, `server closed with ${code}`);
    return;
  }
  if (opcode !== Opcode.Continuation) {
    client.parts = [payload];
    client.partsOpcode = opcode;
  } else client.parts.push(payload);
  if (!fin) return;
  const whole = client.parts.length === 1 ? client.parts[0] : Buffer.concat(client.parts);
  const messageOpcode = client.partsOpcode;
  client.parts = [];
  const want = client.expected.shift();
  if (want === undefined) {
    counts.corrupt++;
    counter.error(`connection ${client.id}: an echo nobody sent`);
    return;
  }
  counts.outstanding--;
  const seq = checkBody(client.id, whole, messageOpcode === Opcode.Text);
  if (messageOpcode !== want.opcode || whole.length !== want.length || seq !== want.seq || crc32(whole) !== want.crc) {
    counts.corrupt++;
    counter.error(`connection ${client.id} seq ${want.seq}: echo differs (opcode ${messageOpcode}, ${whole.length} bytes, seq ${seq})`);
    return;
  }
  counts.echoed++;
  counter.addRtt(performance.now() - want.sentAt);
}

function open(index: number): Promise<void> {
  const id = config.worker * 1_000_000 + index;
  const key = keyOf(randomBytes(16));
  const localAddress = config.localAddresses[index % config.localAddresses.length];
  return new Promise<void>((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: config.port, localAddress });
    socket.setNoDelay(true);
    const client = new Client(id, socket);
    let head = Buffer.alloc(0);
    const timer = setTimeout(() => fail('handshake timeout'), config.connectTimeoutMs);
    function fail(why: string): void {
      clearTimeout(timer);
      if (client.state === 'opening') {
        client.state = 'closed';
        counts.connectFailed++;
        counter.error(`connection ${id} failed to open: ${why}`);
        socket.destroy();
        resolve();
      } else lose(client, why);
    }
    socket.once('connect', () => socket.write(upgradeRequest(`127.0.0.1:${config.port}`, '/', key)));
    socket.on('error', (error) => fail(error.message));
    socket.on('close', () => {
      if (client.state === 'closing' && client.gotClose) {
        client.state = 'closed';
        counts.open--;
        counts.cleanClosed++;
      } else fail('TCP closed');
    });
    const onFrames = (chunk: Uint8Array): void => {
      let frames;
      try {
        frames = client.reader.push(chunk);
      } catch (error) {
        counts.corrupt++;
        lose(client, (error as Error).message);
        return;
      }
      for (const f of frames) onFrame(client, f.opcode, f.fin, f.payload);
    };
    socket.on('data', (chunk: Buffer) => {
      if (client.state !== 'opening') return onFrames(chunk);
      head = Buffer.concat([head, chunk]);
      let parsed;
      try {
        parsed = parseResponseHead(head);
      } catch (error) {
        return fail((error as Error).message);
      }
      if (parsed === null) return;
      if (parsed.status !== 101 || parsed.headers.get('sec-websocket-accept') !== acceptOf(key)) return fail(`bad handshake response ${parsed.status}`);
      clearTimeout(timer);
      client.state = 'open';
      counts.opened++;
      counts.open++;
      clients.push(client);
      if (head.length > parsed.length) onFrames(head.subarray(parsed.length));
      resolve();
    });
  });
}

/** Sends one checksummed message (sometimes in fragments, sometimes after a Ping). */
function sendMessage(client: Client): void {
  const text = Math.random() < 0.25;
  const size = 16 + Math.floor(Math.random() ** 2 * (config.maxSize - 16));
  const seq = client.seq++;
  const body = bodyOf(client.id, seq, size, text);
  const opcode = text ? Opcode.Text : Opcode.Binary;
  const frames: Uint8Array[] = [];
  const pieces = Math.random() < 0.125 && body.length >= 3 ? 2 + Math.floor(Math.random() * 2) : 1;
  // Text is printable ASCII, so any cut is between characters.
  const cuts = [0];
  for (let i = 1; i < pieces; i++) cuts.push(Math.floor((i * body.length) / pieces));
  cuts.push(body.length);
  for (let i = 0; i < pieces; i++) {
    frames.push(maskedFrame(i === 0 ? opcode : Opcode.Continuation, body.subarray(cuts[i], cuts[i + 1]), { fin: i === pieces - 1, maskKey: randomBytes(4) }));
    if (i === 0 && pieces > 1 && Math.random() < 0.5) {
      // A Ping between fragments (RFC 6455 §5.4: control frames may be interleaved).
      const payload = randomBytes(8);
      client.pings.push({ payload, sentAt: performance.now() });
      counts.pings++;
      frames.push(maskedFrame(Opcode.Ping, payload, { maskKey: randomBytes(4) }));
    }
  }
  if (pieces === 1 && Math.random() < 0.02) {
    const payload = randomBytes(8);
    client.pings.push({ payload, sentAt: performance.now() });
    counts.pings++;
    frames.push(maskedFrame(Opcode.Ping, payload, { maskKey: randomBytes(4) }));
  }
  client.expected.push({ seq, opcode, length: body.length, crc: crc32(body), sentAt: performance.now() });
  counts.outstanding++;
  counts.sent++;
  counts.sentBytes += body.length;
  client.socket.write(frames.length === 1 ? frames[0] : Buffer.concat(frames));
}

let traffic: ReturnType<typeof setInterval> | null = null;

/** Sends `rate` messages a second in all, round robin over the open connections. */
function startTraffic(rate: number): void {
  let next = 0;
  let budget = 0;
  let last = performance.now();
  traffic = setInterval(() => {
    const now = performance.now();
    budget = Math.min(budget + ((now - last) / 1000) * rate, rate); // at most a second's worth at once
    last = now;
    let tries = clients.length;
    while (budget >= 1 && tries-- > 0) {
      const client = clients[next++ % clients.length];
      // At most 4 messages in flight per connection: a slow echo delays, never piles up.
      if (client.state !== 'open' || client.expected.length >= 4) continue;
      sendMessage(client);
      budget--;
    }
  }, 20);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function stop(): Promise<void> {
  stopping = true;
  if (traffic !== null) clearInterval(traffic);
  clearInterval(progress);
  // Wait (at most 10 s) for the echoes still in flight.
  for (let waited = 0; counts.outstanding > 0 && waited < 10_000; waited += 50) await sleep(50);
  // Close every connection with 1000 and wait (at most 15 s) for the server's answers.
  for (const client of clients) {
    if (client.state !== 'open') continue;
    client.state = 'closing';
    client.socket.write(maskedFrame(Opcode.Close, closePayload(1000), { maskKey: randomBytes(4) }));
  }
  for (let waited = 0; counts.open > 0 && waited < 15_000; waited += 50) await sleep(50);
  for (const client of clients) if (client.state !== 'closed') client.socket.destroy();
  send({ type: 'final', counts: counter.snapshot() });
  setTimeout(() => process.exit(0), 200);
}

const progress = setInterval(() => send({ type: 'progress', counts: counter.snapshot() }), 1000);

process.on('message', (message: { op: string; rate?: number }) => {
  if (message.op === 'start' && !stopping) startTraffic(message.rate ?? 100);
  else if (message.op === 'stop') void stop();
});
// The parent went away: leave.
process.on('disconnect', () => process.exit(0));

// Open the connections, `concurrency` at a time.
const started = performance.now();
let nextIndex = 0;
async function opener(): Promise<void> {
  while (nextIndex < config.connections && !stopping) await open(nextIndex++);
}
await Promise.all(Array.from({ length: Math.min(config.concurrency, config.connections) }, opener));
send({ type: 'connected', counts: counter.snapshot(), ms: Math.round(performance.now() - started) });
