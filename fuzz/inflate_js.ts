/**
 * Fuzz target `inflate_js`: the plain-JavaScript permessage-deflate inflater (pako; browsers
 * and runtimes without `node:zlib`), two messages per input. Oracles as for `inflate_zlib`,
 * with the differences deflate-js documents: it refuses a message cut inside a DEFLATE block,
 * and with fewer than 15 window bits it keeps only that window.
 * @module
 */
import { jsDeflateEngine } from '../packages/deflate-js/src/js_deflate_engine.ts';
import { fuzzInflate } from './support/inflate_run.ts';

export function fuzz(data: Uint8Array): void {
  fuzzInflate(jsDeflateEngine, { rejectsCutBlocks: true, strictWindow: true }, data);
}
