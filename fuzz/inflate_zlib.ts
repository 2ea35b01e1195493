/**
 * Fuzz target `inflate_zlib`: the `node:zlib` permessage-deflate inflater (Node, Deno and Bun
 * servers and clients), two messages per input so that context takeover is exercised.
 * Oracles (`support/inflate_run.ts`): only `Error`s leave it, `InflateLimitError` exactly
 * when the output passes the limit, output never past it, and the same output and verdict
 * as `node:zlib` called directly.
 * @module
 */
import { zlibEngine } from '../packages/deflate-zlib/src/zlib_engine.ts';
import { fuzzInflate } from './support/inflate_run.ts';

export function fuzz(data: Uint8Array): void {
  fuzzInflate(zlibEngine, { rejectsCutBlocks: false, strictWindow: false }, data);
}
