/**
 * What an interop run must show, on the client's side and on the wire (wire_relay.ts):
 * every echo matched; everything the relay saw inflates with the agreed terms; the big
 * compressible messages were compressed both ways; and wsflow's own sends follow its
 * settings (threshold, per-message `compress`, window bits, context takeover).
 * @module
 */
import { expandPlan, type PlanItem, type RunResult } from './plan.ts';
import type { DeflateParams } from './peers.ts';
import type { SenderTerms, WireMessage, WireRecord } from './wire_relay.ts';

/** The matchers the checks use: Vitest's and Playwright's `expect` both fit. */
export interface Matchers {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toMatch(expected: RegExp): void;
  toBeLessThan(expected: number): void;
  toBeGreaterThan(expected: number): void;
}

/** An `expect(actual, message)` function. */
export type ExpectFn = (actual: unknown, message?: string) => Matchers;

/** What a run is expected to do. */
export interface RunExpectation {
  plan: PlanItem[];
  /** Whether permessage-deflate must be agreed. */
  negotiated: boolean;
  /** Which direction wsflow sends (its settings are checked there): c2s when it is the client. */
  wsflow: 'c2s' | 's2c';
  /** wsflow's settings (threshold). */
  params: DeflateParams;
  /** The terms the relay must work out, when the set fixes them (both ends configured alike). */
  terms?: { client: SenderTerms; server: SenderTerms };
  /** The client honours a per-message `compress: false` (wsflow, ws). */
  clientCompressOption: boolean;
  /** The echo server honours `!plain` (wsflow, ws, Bun.serve) and `!force` (wsflow). */
  serverMarks: 'both' | 'plain' | 'none';
  /**
   * wsflow's deflater can refer to earlier messages (context takeover). False on Deno:
   * its node:zlib ignores a raw deflate's preset dictionary, which the zlib engine keeps
   * the context in, so every message is compressed alone there (valid, only larger).
   */
  takeoverGain: boolean;
}

/** The terms a parameter set gives when both ends are configured with it. */
export function termsOfSet(params: DeflateParams): { client: SenderTerms; server: SenderTerms } {
  return {
    client: { windowBits: params.clientMaxWindowBits ?? 15, noContextTakeover: params.clientNoContextTakeover === true },
    server: { windowBits: params.serverMaxWindowBits ?? 15, noContextTakeover: params.serverNoContextTakeover === true },
  };
}

const OPCODE = { text: 1, binary: 2 } as const;

/** A one-line summary of a run for the test log. */
export function summary(result: RunResult, record: WireRecord): string {
  const sum = (list: WireMessage[], key: 'wire' | 'size'): number => list.reduce((n, m) => n + m[key], 0);
  const ratio = (list: WireMessage[]): string => (sum(list, 'size') === 0 ? '-' : (sum(list, 'wire') / sum(list, 'size')).toFixed(3));
  return `${record.accepted || '(no extension)'} | ${result.matched}/${result.sent} echoed in ${result.ms} ms | wire/plain c2s ${ratio(record.c2s)} s2c ${ratio(record.s2c)}`;
}

/** Checks a run against its expectation with the runner's `expect`; failures name the message and direction. */
export function checkRun(expect: ExpectFn, result: RunResult, record: WireRecord, expectation: RunExpectation): void {
  const entries = expandPlan(expectation.plan);
  expect(result.mismatches, 'echo mismatches').toEqual([]);
  expect(result.matched, 'echoes matched').toBe(entries.length);
  expect(result.closeCode, 'close code after the client closed with 1000').toBe(1000);
  expect(record.errors, 'what the relay could not decode').toEqual([]);
  if (!expectation.negotiated) {
    expect(record.accepted, 'no extension in the 101').toBe('');
    expect(result.extensions, "the client's extensions").toBe('');
  } else {
    expect(record.accepted, 'permessage-deflate in the 101').toMatch(/^permessage-deflate\b/);
    expect(result.extensions, "the client's extensions").toMatch(/^permessage-deflate\b/);
    if (expectation.terms !== undefined) expect({ client: record.client, server: record.server }, 'the agreed terms').toEqual(expectation.terms);
  }
  expect(record.c2s.length, 'messages client to server').toBe(entries.length);
  expect(record.s2c.length, 'messages server to client').toBe(entries.length);

  const threshold = expectation.params.threshold ?? 1024;
  const burstWires = new Map<number, { size: number; wires: number[] }>();
  entries.forEach((item, i) => {
    const label = `message ${i} (${item.type} ${item.gen} ${item.size} B${item.compress === false ? ' compress:false' : ''}${item.mark ? ` !${item.mark}` : ''})`;
    const c2s = record.c2s[i];
    const s2c = record.s2c[i];
    expect(c2s.opcode, `${label} opcode c2s`).toBe(OPCODE[item.type]);
    expect(s2c.opcode, `${label} opcode s2c`).toBe(OPCODE[item.type]);
    expect(c2s.size, `${label} size c2s`).toBe(item.size);
    expect([s2c.size, s2c.crc], `${label} echoed unchanged`).toEqual([c2s.size, c2s.crc]);
    if (!expectation.negotiated) {
      expect([c2s.rsv1, s2c.rsv1], `${label} RSV1 without the extension`).toEqual([false, false]);
      return;
    }
    const markCompress = item.mark === 'plain' ? false : item.mark === 'force' ? true : undefined;
    const honoured = expectation.serverMarks === 'both' || (expectation.serverMarks === 'plain' && item.mark === 'plain');
    // Big compressible messages are compressed both ways, whoever sends them, unless told not to.
    if (item.gen === 'json' && item.size >= 64 * 1024) {
      if (!(item.compress === false && expectation.clientCompressOption)) {
        expect(c2s.rsv1 && c2s.wire < item.size / 3, `${label} compressed c2s (${c2s.wire} octets)`).toBe(true);
      }
      if (!(markCompress === false && honoured)) {
        expect(s2c.rsv1 && s2c.wire < item.size / 3, `${label} compressed s2c (${s2c.wire} octets)`).toBe(true);
      }
    }
    if (item.compress === false && expectation.clientCompressOption) expect(c2s.rsv1, `${label} sent uncompressed as asked`).toBe(false);
    if (markCompress !== undefined && honoured) expect(s2c.rsv1, `${label} echoed with compress: ${markCompress}`).toBe(markCompress);

    // wsflow's own sends follow its settings exactly.
    const mine = expectation.wsflow === 'c2s' ? c2s : s2c;
    const terms = expectation.wsflow === 'c2s' ? record.client : record.server;
    const force = expectation.wsflow === 'c2s' ? item.compress : markCompress;
    const compresses = force ?? item.size >= threshold;
    expect(mine.rsv1, `${label}: wsflow compresses it (threshold ${threshold}, compress ${String(force)})`).toBe(compresses);
    if (item.gen === 'pattern' && compresses && terms !== null) {
      if (terms.windowBits >= 14) expect(mine.wire, `${label}: a 2^${terms.windowBits} window finds the 8191-octet repeats (only the first block stays literal)`).toBeLessThan(item.size / 4);
      else expect(mine.wire, `${label}: a 2^${terms.windowBits} window cannot reach the 8191-octet repeats`).toBeGreaterThan(item.size * 0.9);
    }
    if (item.index >= 0 && compresses) {
      const burst = burstWires.get(item.burst) ?? { size: item.size, wires: [] };
      burst.wires.push(mine.wire);
      burstWires.set(item.burst, burst);
    }
  });
  // Bursts of near-identical messages: with context takeover (and a window that reaches the
  // previous message: zlib refers back at most 2^w - 262 octets) the later ones shrink to a
  // few octets; without it each compresses alone.
  const terms = expectation.wsflow === 'c2s' ? record.client : record.server;
  for (const { size, wires } of burstWires.values()) {
    if (!expectation.negotiated || terms === null || wires.length < 2) continue;
    const [first, ...rest] = wires;
    const mean = rest.reduce((n, w) => n + w, 0) / rest.length;
    if (terms.noContextTakeover) {
      expect(Math.min(...rest), `no context takeover: every message compresses alone (first ${first})`).toBeGreaterThan(first * 0.5);
    } else if (expectation.takeoverGain && 2 ** terms.windowBits - 262 > size) {
      expect(mean, `context takeover: later messages refer to earlier ones (first ${first})`).toBeLessThan(first * 0.25);
    }
  }
}
