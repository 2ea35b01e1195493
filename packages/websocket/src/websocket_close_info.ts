/**
 * The dictionaries of `WebSocketStream` (WebSockets Standard): `WebSocketCloseInfo`,
 * `WebSocketOpenInfo` and `WebSocketStreamOptions`, with their Web IDL conversions.
 * @module
 */
import { isObject, toEnforcedUnsignedShort, toUSVString } from './webidl.ts';

/** `dictionary WebSocketCloseInfo { [EnforceRange] unsigned short closeCode; USVString reason = ""; }` */
export interface WebSocketCloseInfo {
  closeCode?: number;
  reason?: string;
}

/** What `WebSocketStream#closed` resolves with. */
export interface WebSocketClosedInfo {
  closeCode: number;
  reason: string;
}

/** What `WebSocketStream#opened` resolves with (`WebSocketOpenInfo`). */
export interface WebSocketOpenInfo {
  /** The messages: a `string` per text message, a `Uint8Array` per binary one. */
  readable: ReadableStream<string | Uint8Array>;
  /** Sink for messages: a `BufferSource` is sent as binary, anything else as text. */
  writable: WritableStream<string | ArrayBuffer | ArrayBufferView>;
  /** The extensions the server selected, `''` for none. */
  extensions: string;
  /** The subprotocol the server selected, `''` for none. */
  protocol: string;
}

/** `dictionary WebSocketStreamOptions { sequence<USVString> protocols; AbortSignal signal; }` */
export interface WebSocketStreamOptions {
  protocols?: readonly string[];
  signal?: AbortSignal;
}

/** Reads a dictionary member (Web IDL: `undefined` means absent; null and undefined dictionaries are empty). */
function member(dictionary: unknown, name: string): unknown {
  if (dictionary === undefined || dictionary === null) return undefined;
  if (!isObject(dictionary)) throw new TypeError('The options must be an object');
  return (dictionary as Record<string, unknown>)[name];
}

/**
 * Converts a `WebSocketCloseInfo`: `closeCode` with [EnforceRange] (absent stays
 * absent), `reason` a USVString defaulting to `''`.
 * @throws {TypeError} for a non-object or an out-of-range code
 */
export function toCloseInfo(value: unknown): { closeCode?: number; reason: string } {
  // Members are converted in lexicographic order: closeCode, then reason.
  const code = member(value, 'closeCode');
  const reason = member(value, 'reason');
  const out: { closeCode?: number; reason: string } = { reason: reason === undefined ? '' : toUSVString(reason) };
  if (code !== undefined) out.closeCode = toEnforcedUnsignedShort(code);
  return out;
}

/**
 * Converts `WebSocketStreamOptions`: `protocols` a sequence of USVStrings, `signal` an
 * `AbortSignal`.
 * @throws {TypeError} for a non-object, a non-iterable `protocols` or a `signal` that is not an AbortSignal
 */
export function toStreamOptions(value: unknown): { protocols?: string[]; signal?: AbortSignal } {
  const protocols = member(value, 'protocols');
  const signal = member(value, 'signal');
  const out: { protocols?: string[]; signal?: AbortSignal } = {};
  if (protocols !== undefined) {
    if (!isObject(protocols) || typeof (protocols as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
      throw new TypeError('protocols must be a sequence of strings');
    }
    out.protocols = Array.from(protocols as Iterable<unknown>, toUSVString);
  }
  if (signal !== undefined) {
    if (!(signal instanceof AbortSignal)) throw new TypeError('signal must be an AbortSignal');
    out.signal = signal;
  }
  return out;
}
