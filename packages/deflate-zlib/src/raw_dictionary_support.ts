/**
 * Which of the runtime's one-shot raw DEFLATE functions honour a preset dictionary.
 *
 * Node and Bun pass `dictionary` to zlib for `deflateRawSync` and `inflateRawSync`. Deno 2
 * (checked on 2.9.5) accepts the option but ignores it in raw mode: its deflater compresses
 * as if there were none, and its inflater fails on the first reference into it. So this is
 * probed once, on first use, with RFC 7692's own example (§7.2.3.2: a second "Hello" that
 * refers to the first), rather than guessed from the runtime's name.
 * @module
 */
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';

/** What the probe found. */
export interface RawDictionarySupport {
  /** `deflateRawSync` refers back into `dictionary`. */
  readonly deflate: boolean;
  /** `inflateRawSync` resolves references into `dictionary`. */
  readonly inflate: boolean;
}

const HELLO = Uint8Array.of(0x48, 0x65, 0x6c, 0x6c, 0x6f);
/** RFC 7692 §7.2.3.2: "Hello" compressed with a window that already holds "Hello", tail put back. */
const SECOND_HELLO = Uint8Array.of(0xf2, 0x00, 0x11, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff);

let support: RawDictionarySupport | undefined;

/** Probes the runtime's zlib once (a few microseconds) and remembers the answer. */
export function rawDictionarySupport(): RawDictionarySupport {
  return (support ??= { inflate: probeInflate(), deflate: probeDeflate() });
}

function probeInflate(): boolean {
  try {
    const out = inflateRawSync(SECOND_HELLO, { finishFlush: constants.Z_SYNC_FLUSH, dictionary: HELLO });
    return equal(out, HELLO);
  } catch {
    return false;
  }
}

function probeDeflate(): boolean {
  try {
    const plain = deflateRawSync(HELLO, { finishFlush: constants.Z_SYNC_FLUSH });
    const primed = deflateRawSync(HELLO, { finishFlush: constants.Z_SYNC_FLUSH, dictionary: HELLO });
    // Ignored, the dictionary changes nothing; honoured, "Hello" becomes one back-reference.
    return primed.length < plain.length;
  } catch {
    return false;
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
