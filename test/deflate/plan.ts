/**
 * The messages a permessage-deflate interop run sends, and how their payloads are made.
 * Self-contained and platform-neutral (no imports): the same file runs in Node, Deno and
 * Bun peers, and in the Vitest process that checks what crossed the wire.
 *
 * A run is a list of {@link PlanItem}s. The client sends each one and expects it echoed
 * byte for byte with its type; a `burst` sends `count` messages back to back before
 * reading any echo (context takeover across messages, RFC 7692 §7.2.3.3).
 *
 * Payload generators (`gen`), all exactly `size` UTF-8 bytes and deterministic per seed:
 * - `json`: JSON-ish records (compressible, like API traffic);
 * - `random`: bytes from a 32-bit xorshift PRNG, or for text random code points of 1 to 4
 *   UTF-8 bytes (incompressible);
 * - `pattern`: a random 8191-byte block repeated (binary only). Deflate finds the repeats
 *   only with a window above 8191 octets: it compresses to almost nothing with a 2^15
 *   window and not at all with 2^9..2^12 (`*_max_window_bits`, RFC 7692 §7.1.2); and a
 *   decoder limited to 2^12 fails on a sender that reached back that far anyway.
 * @module
 */

/** One message of a run (or `count` of them, sent back to back). */
export interface PlanItem {
  type: 'text' | 'binary';
  gen: 'json' | 'random' | 'pattern';
  size: number;
  seed: number;
  /**
   * How the sender sends it, where its API can say (wsflow's `send(data, { compress })`,
   * ws's `send(data, { compress })`): `false` uncompressed whatever the threshold.
   */
  compress?: boolean;
  /**
   * Asks the echo server how to send the echo back: the payload starts with `!plain `
   * (send it uncompressed) or `!force ` (compress it even below the threshold). wsflow's
   * and ws's echo servers honour it; the others echo as they always do.
   */
  mark?: 'plain' | 'force';
  /** Send `count` messages back to back: the same payload each time, its first 4 bytes replaced by the index `i`. */
  count?: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** The sizes every peer and direction runs: empty, one octet, the 7-bit length limit, 1 KiB, 64 KiB, 1 MiB. */
export const SIZES = [0, 1, 125, KiB, 64 * KiB, MiB] as const;

/**
 * The full run: text and binary × compressible and incompressible × every size, the
 * long-distance pattern, 100 similar messages in a row, and the per-message options.
 */
export function fullPlan(): PlanItem[] {
  const items: PlanItem[] = [];
  let seed = 1;
  for (const type of ['text', 'binary'] as const) {
    for (const gen of ['json', 'random'] as const) {
      for (const size of SIZES) items.push({ type, gen, size, seed: seed++ });
    }
  }
  items.push({ type: 'binary', gen: 'pattern', size: 64 * KiB, seed: seed++ });
  items.push({ type: 'text', gen: 'json', size: 2 * KiB, seed: 500, count: 100 });
  items.push({ type: 'text', gen: 'json', size: 64 * KiB, seed: seed++, compress: false });
  items.push({ type: 'text', gen: 'json', size: 64 * KiB, seed: seed++, mark: 'plain' });
  items.push({ type: 'text', gen: 'json', size: 100, seed: seed++, mark: 'force' });
  return items;
}

/** The shorter run of the extra parameter sets: what each parameter changes, not every size again. */
export function shortPlan(): PlanItem[] {
  return [
    { type: 'text', gen: 'json', size: 0, seed: 1 },
    { type: 'binary', gen: 'random', size: 1, seed: 2 },
    { type: 'text', gen: 'json', size: 125, seed: 3 },
    { type: 'text', gen: 'json', size: KiB, seed: 4 },
    { type: 'text', gen: 'json', size: 64 * KiB, seed: 5 },
    { type: 'binary', gen: 'random', size: 64 * KiB, seed: 6 },
    { type: 'binary', gen: 'pattern', size: 64 * KiB, seed: 7 },
    { type: 'text', gen: 'json', size: 2 * KiB, seed: 500, count: 20 },
  ];
}

/** The plan with bursts expanded: one entry per message, in the order they are sent. */
export function expandPlan(plan: readonly PlanItem[]): Array<PlanItem & { index: number; burst: number }> {
  const out: Array<PlanItem & { index: number; burst: number }> = [];
  plan.forEach((item, burst) => {
    const count = item.count ?? 1;
    for (let i = 0; i < count; i++) out.push({ ...item, count: undefined, index: count > 1 ? i : -1, burst });
  });
  return out;
}

function xorshift(seed: number): () => number {
  let state = (Math.imul(seed >>> 0, 2654435761) ^ 0x9e3779b9) >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
}

const FIRST = ['ada', 'brian', 'chen', 'dora', 'emil', 'fatima', 'grace', 'hugo'];
const TAGS = ['alpha', 'beta', 'gamma', 'delta', 'release', 'staging', 'eu-west', 'us-east'];

/** JSON-ish ASCII text of exactly `size` bytes. */
function jsonText(size: number, seed: number): string {
  const next = xorshift(seed);
  let out = '[';
  for (let id = 1; out.length < size; id++) {
    const name = FIRST[next() % FIRST.length];
    out +=
      `${id > 1 ? ',' : ''}{"id":${id},"user":"${name}-${next() % 1000}","email":"${name}@example.com",` +
      `"active":${next() % 2 === 0},"score":${(next() % 10000) / 100},"tags":["${TAGS[next() % 8]}","${TAGS[next() % 8]}"]}`;
  }
  return out.slice(0, size);
}

/** Random code points of 1 to 4 UTF-8 bytes, then ASCII to land on exactly `size` bytes. */
function randomText(size: number, seed: number): string {
  const next = xorshift(seed);
  const parts: string[] = [];
  let used = 0;
  while (used < size) {
    const room = size - used;
    const r = next();
    let cp: number;
    let len: number;
    switch (room >= 4 ? r % 4 : 0) {
      case 0:
        cp = 0x21 + (r >>> 8) % 94;
        len = 1;
        break;
      case 1:
        cp = 0x80 + (r >>> 8) % 0x780;
        len = 2;
        break;
      case 2:
        cp = 0x800 + (r >>> 8) % (0xd800 - 0x800); // below the surrogates
        len = 3;
        break;
      default:
        cp = 0x10000 + (r >>> 8) % 0x100000;
        len = 4;
    }
    parts.push(String.fromCodePoint(cp));
    used += len;
  }
  return parts.join('');
}

function randomBytes(size: number, seed: number): Uint8Array {
  const next = xorshift(seed);
  const out = new Uint8Array(size);
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    const v = next();
    out[i] = v;
    out[i + 1] = v >>> 8;
    out[i + 2] = v >>> 16;
    out[i + 3] = v >>> 24;
  }
  for (; i < size; i++) out[i] = next();
  return out;
}

/** The random block {@link PlanItem} `pattern` repeats: 8191 octets (zlib compresses with 2^w - 262 of a 2^w window, so only w = 14, 15 find the repeats). */
export const PATTERN_BLOCK = 8191;

function patternBytes(size: number, seed: number): Uint8Array {
  const block = randomBytes(PATTERN_BLOCK, seed);
  const out = new Uint8Array(size);
  for (let at = 0; at < size; at += PATTERN_BLOCK) out.set(block.subarray(0, Math.min(PATTERN_BLOCK, size - at)), at);
  return out;
}

const encoder = new TextEncoder();

/** Overwrites the first bytes of a payload (never past its end). */
function stamp(base: Uint8Array, prefix: string): Uint8Array {
  const bytes = encoder.encode(prefix);
  base.set(bytes.subarray(0, base.length));
  return base;
}

/** The payload of an expanded plan entry, as sent: a string for text, bytes for binary. */
export function payloadOf(item: PlanItem & { index?: number }): string | Uint8Array {
  let bytes: Uint8Array;
  let text: string | null = null;
  if (item.gen === 'json') text = jsonText(item.size, item.seed);
  else if (item.gen === 'random' && item.type === 'text') text = randomText(item.size, item.seed);
  if (text !== null) {
    // Bursts: the same JSON each time with its index up front (similar messages).
    if (item.index !== undefined && item.index >= 0) text = `${String(item.index).padStart(4, '0')}${text.slice(4)}`.slice(0, item.size);
    if (item.mark !== undefined) text = `!${item.mark} ${text.slice(item.mark.length + 2)}`.slice(0, item.size);
    if (item.type === 'text') return text;
    return encoder.encode(text);
  }
  bytes = item.gen === 'pattern' ? patternBytes(item.size, item.seed) : randomBytes(item.size, item.seed);
  if (item.mark !== undefined) bytes = stamp(bytes, `!${item.mark} `);
  return bytes;
}

/** What an echo server's `!plain`/`!force` mark asks of the echo's `compress` option. */
export function echoCompressOf(data: string | Uint8Array): boolean | undefined {
  const head = typeof data === 'string' ? data.slice(0, 7) : String.fromCharCode(...data.subarray(0, 7));
  if (head === '!plain ') return false;
  if (head === '!force ') return true;
  return undefined;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Why `got` is not the echo of `sent`, or null when it is. */
export function echoMismatch(sent: string | Uint8Array, got: string | Uint8Array): string | null {
  if (typeof sent !== typeof got) return `sent ${typeof sent === 'string' ? 'text' : 'binary'}, got ${typeof got === 'string' ? 'text' : 'binary'} back`;
  if (typeof sent === 'string') {
    if (sent === got) return null;
    return `text of ${encoder.encode(sent).length} bytes came back as ${encoder.encode(got as string).length} bytes, different`;
  }
  return sameBytes(sent, got as Uint8Array) ? null : `binary of ${sent.length} bytes came back as ${(got as Uint8Array).length} bytes, different`;
}

/** What a client reports after a run. */
export interface RunResult {
  /** The negotiated `Sec-WebSocket-Extensions`, as the client's API shows it. */
  extensions: string;
  /** Messages sent and echoes that matched. */
  sent: number;
  matched: number;
  /** The first few mismatches. */
  mismatches: string[];
  /** How the connection ended after the client's Close 1000. */
  closeCode: number;
  ms: number;
}

/**
 * Runs a plan on an open connection, through a small message interface every client
 * adapter provides: `send`, and `next()` for the next message received.
 */
export async function runPlan(
  plan: readonly PlanItem[],
  conn: { send(data: string | Uint8Array, compress: boolean | undefined): void; next(): Promise<string | Uint8Array> },
): Promise<{ sent: number; matched: number; mismatches: string[] }> {
  let sent = 0;
  let matched = 0;
  const mismatches: string[] = [];
  const entries = expandPlan(plan);
  for (let at = 0; at < entries.length; ) {
    // A burst goes out whole before any echo is read.
    const burst = entries[at].burst;
    const group: Array<{ item: (typeof entries)[number]; data: string | Uint8Array }> = [];
    while (at < entries.length && entries[at].burst === burst) {
      const item = entries[at++];
      const data = payloadOf(item);
      conn.send(data, item.compress);
      sent++;
      group.push({ item, data });
    }
    for (const { item, data } of group) {
      const got = await conn.next();
      const why = echoMismatch(data, got);
      if (why === null) matched++;
      else if (mismatches.length < 5) mismatches.push(`${item.type}/${item.gen}/${item.size}#${item.seed}: ${why}`);
    }
  }
  return { sent, matched, mismatches };
}
