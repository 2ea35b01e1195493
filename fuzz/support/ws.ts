/**
 * `ws`'s own parsers, the independent implementation the targets compare with. They are not
 * in `ws`'s package exports, so they are loaded by file path (and stay out of the bundle,
 * hence out of the coverage the fuzzer steers by).
 * @module
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const root = dirname(require.resolve('ws/package.json'));

/** A parsed `Sec-WebSocket-Extensions` value: name -> one object per element, param -> its values. */
export type WsExtensions = Record<string, Record<string, (string | true)[]>[]>;

/** `ws/lib/extension.js`: throws `SyntaxError` on a value it rejects. */
export const wsExtension = require(join(root, 'lib/extension.js')) as { parse(value: string): WsExtensions };
/** `ws/lib/subprotocol.js`: throws `SyntaxError` on a value it rejects. */
export const wsSubprotocol = require(join(root, 'lib/subprotocol.js')) as { parse(value: string): Set<string> };
/** `ws/lib/validation.js`: the close-code and UTF-8 checks of `ws`'s receiver. */
export const wsValidation = require(join(root, 'lib/validation.js')) as {
  isValidStatusCode(code: number): boolean;
  isValidUTF8(bytes: Uint8Array): boolean;
};
/** `ws/lib/permessage-deflate.js`: `normalizeParams` throws on an invalid offer or response. */
export const WsPerMessageDeflate = require(join(root, 'lib/permessage-deflate.js')) as new (options: { isServer: boolean }) => { normalizeParams(configurations: Record<string, (string | true)[]>[]): Record<string, string | number | true>[] };

/** `ws/lib/receiver.js`: the frame parser of `ws`, a `Writable` whose `_write` runs synchronously. */
export const WsReceiver = require(join(root, 'lib/receiver.js')) as new (options: {
  isServer: boolean;
  maxPayload: number;
  maxFragments?: number;
}) => {
  _write(chunk: Uint8Array, encoding: string, callback: (error?: Error) => void): void;
  on(event: 'message', listener: (data: Uint8Array, isBinary: boolean) => void): void;
  on(event: 'conclude', listener: (code: number, reason: Uint8Array) => void): void;
};
/** The symbol under which `ws`'s receiver errors carry their close code. */
export const wsStatusCode = (require(join(root, 'lib/constants.js')) as { kStatusCode: symbol }).kStatusCode;
