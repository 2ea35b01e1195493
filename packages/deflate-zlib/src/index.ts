/**
 * `@wsflow/deflate-zlib`: the permessage-deflate (RFC 7692) engine over `node:zlib`, for
 * Node, Deno and Bun.
 * @module
 */
export { createZlibEngine, DEFAULT_DEFLATE_HISTORY, zlibEngine, type ZlibEngineOptions } from './zlib_engine.ts';
