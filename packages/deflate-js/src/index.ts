/**
 * `@wsflow/deflate-js`: permessage-deflate (RFC 7692) in plain JavaScript, for browsers and
 * anywhere without `node:zlib`.
 *
 * @example
 * ```ts
 * import { jsDeflateEngine } from '@wsflow/deflate-js';
 * // hand it to a connection as its permessage-deflate engine:
 * const perMessageDeflate = { engine: jsDeflateEngine, threshold: 1024 };
 * ```
 * @module
 */
export { jsDeflateEngine } from './js_deflate_engine.ts';
export { JsMessageDeflater } from './js_message_deflater.ts';
export { JsMessageInflater } from './js_message_inflater.ts';
