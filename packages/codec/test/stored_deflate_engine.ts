/**
 * A DEFLATE engine for tests that writes only stored blocks (RFC 1951 §3.2.4, BTYPE 00) and
 * reads only them: real DEFLATE that any inflater accepts (RFC 7692 §7.2.3.3 shows it), small
 * enough to check by eye, with counters to see what the protocol asked of it.
 */
import { InflateLimitError, type DeflateEngine, type MessageDeflater, type MessageInflater } from '../src/index.ts';

export interface StoredEngine extends DeflateEngine {
  deflated: number;
  inflated: number;
  disposed: number;
}

export function storedEngine(): StoredEngine {
  const engine: StoredEngine = {
    name: 'stored',
    deflated: 0,
    inflated: 0,
    disposed: 0,
    createDeflater(): MessageDeflater {
      return {
        deflate(data) {
          engine.deflated++;
          const out: number[] = [];
          for (let at = 0; at < data.length || (at === 0 && data.length === 0 && out.length === 0); ) {
            const n = Math.min(65535, data.length - at);
            out.push(0x00, n & 0xff, n >> 8, ~n & 0xff, (~n >> 8) & 0xff, ...data.subarray(at, at + n));
            at += n;
            if (n === 0) break;
          }
          // The sync flush's empty stored block is 00 00 00 ff ff; its last four octets are removed (§7.2.1).
          out.push(0x00);
          return new Uint8Array(out);
        },
        dispose() {
          engine.disposed++;
        },
      };
    },
    createInflater(): MessageInflater {
      return {
        inflate(data, maxOutput) {
          engine.inflated++;
          const input = new Uint8Array(data.length + 4);
          input.set(data);
          input.set([0x00, 0x00, 0xff, 0xff], data.length);
          const parts: Uint8Array[] = [];
          let size = 0;
          let at = 0;
          while (at < input.length) {
            const header = input[at];
            if ((header & 0x06) !== 0) throw new Error('only stored blocks are supported');
            if (at + 5 > input.length) throw new Error('truncated block header');
            const len = input[at + 1] | (input[at + 2] << 8);
            const nlen = input[at + 3] | (input[at + 4] << 8);
            if ((len ^ 0xffff) !== nlen) throw new Error('LEN and NLEN disagree');
            if (at + 5 + len > input.length) throw new Error('truncated block');
            size += len;
            if (size > maxOutput) throw new InflateLimitError(maxOutput);
            parts.push(input.subarray(at + 5, at + 5 + len));
            at += 5 + len;
            if ((header & 1) !== 0) break;
          }
          const out = new Uint8Array(size);
          let o = 0;
          for (const p of parts) {
            out.set(p, o);
            o += p.length;
          }
          return out;
        },
        dispose() {
          engine.disposed++;
        },
      };
    },
  };
  return engine;
}
