/**
 * A strict, size-limited HTTP/1.1 message head (start line + field lines) parser working on
 * bytes, for runtimes that hand us raw sockets, and the matching serializers
 * (RFC 9112 §2–§5, RFC 9110 §5). Only what a WebSocket opening handshake needs: no bodies,
 * no chunked coding, no HTTP/1.0.
 * @module
 */
import { HandshakeError } from './errors.ts';
import { isToken, trimOws } from './header_grammar.ts';

/** Default limit on the bytes of a head, start line through the final CRLF CRLF. */
export const DEFAULT_MAX_HEAD_SIZE = 16 * 1024;

/** Default limit on the number of field lines in a head. */
export const DEFAULT_MAX_HEADERS = 100;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;

/** Limits of an {@link HttpHeadParser}. */
export interface HttpHeadOptions {
  /** Largest head accepted, in bytes including the final CRLF CRLF. Default 16 KiB. */
  maxHeadSize?: number;
  /** Most field lines accepted. Default 100. */
  maxHeaders?: number;
}

/** Field lines of a parsed head. */
export interface HttpHeadFields {
  /**
   * Field values by lower-case name, OWS-trimmed; a repeated field's values are joined with
   * `, ` in order (RFC 9110 §5.3). Look names up in lower case.
   */
  headers: Map<string, string>;
  /** Every field line in order, name as received, value trimmed (e.g. for `Set-Cookie`). */
  rawHeaders: Array<[name: string, value: string]>;
}

/** A parsed request head (RFC 9112 §3). */
export interface RequestHead extends HttpHeadFields {
  kind: 'request';
  /** The method token, case preserved (methods are case-sensitive, RFC 9110 §9.1). */
  method: string;
  /** The request-target exactly as sent, e.g. `/chat?room=1`. */
  target: string;
  version: 'HTTP/1.1';
}

/** A parsed response head (RFC 9112 §4). */
export interface ResponseHead extends HttpHeadFields {
  kind: 'response';
  version: 'HTTP/1.1';
  /** The three-digit status code, 100–599. */
  status: number;
  /** The reason phrase, possibly empty; informational only (RFC 9112 §4). */
  reason: string;
}

/** Which start line a parser expects. */
export type HttpHeadKind = 'request' | 'response';

/** The head type a parser of kind `K` yields. */
export type HttpHeadOf<K extends HttpHeadKind> = K extends 'request' ? RequestHead : ResponseHead;

/** A complete head and where it ended. */
export interface HttpHeadResult<H extends RequestHead | ResponseHead> {
  head: H;
  /** Bytes of the stream the head took, through its final CRLF CRLF. */
  bytesConsumed: number;
  /** Bytes of the last chunk that followed the head (e.g. early frames), maybe empty: a view, not a copy. */
  rest: Uint8Array;
}

/**
 * A read-only header lookup by lower-case name: a parsed head's `headers` map, a WHATWG
 * `Headers`, or an adapter over a runtime's request object all fit.
 */
export interface HeaderLookup {
  get(name: string): string | null | undefined;
}

type ParserState = 'scanning' | 'done' | 'failed';

/** Quotes peer-supplied text for an error message, bounded so a message stays short. */
function quote(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

function malformed(message: string): HandshakeError {
  return new HandshakeError('MALFORMED_HEAD', message, 400);
}

/** Decodes bytes one-to-one as code points U+0000–U+00FF: field values are octets (RFC 9110 §5.5). */
function latin1(bytes: Uint8Array, start: number, end: number): string {
  let text = '';
  // `apply` takes the typed array as an array-like; spreading it would run the iterator
  // protocol per byte (measured: 7x slower on a 180-byte head).
  for (let i = start; i < end; i += 8192) text += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + 8192)) as unknown as number[]);
  return text;
}

/** Whether a code is a CTL other than HTAB: forbidden in field values and reason phrases (RFC 9110 §5.5). */
function isForbiddenControl(code: number): boolean {
  return (code < SP && code !== HTAB) || code === 0x7f;
}

/** Accepts exactly `HTTP/1.1`; a well-formed other version gets `BAD_HTTP_VERSION` (505 for another major). */
function checkVersion(version: string): asserts version is 'HTTP/1.1' {
  if (version === 'HTTP/1.1') return;
  const match = /^HTTP\/(\d)\.\d$/.exec(version);
  if (match === null) throw malformed(`${quote(version)} is not an HTTP-version (RFC 9112 §2.3)`);
  throw new HandshakeError('BAD_HTTP_VERSION', `${version} is not supported: the handshake needs HTTP/1.1 (RFC 6455 §4.1)`, match[1] === '1' ? 400 : 505);
}

/** request-line = method SP request-target SP HTTP-version (RFC 9112 §3), single SPs only. */
function parseRequestLine(line: string): Pick<RequestHead, 'method' | 'target' | 'version'> {
  const parts = line.split(' ');
  if (parts.length !== 3) throw malformed(`request line ${quote(line)} is not "method SP request-target SP HTTP-version" (RFC 9112 §3)`);
  const [method, target, version] = parts;
  if (!isToken(method)) throw malformed(`method ${quote(method)} is not a token (RFC 9112 §3.1)`);
  if (target === '' || !/^[\x21-\x7e]+$/.test(target)) throw malformed(`request-target ${quote(target)} is invalid (RFC 9112 §3.2)`);
  checkVersion(version);
  return { method, target, version };
}

/**
 * status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4). The SP before
 * an empty reason phrase may be missing: some servers omit it and the reason is ignored anyway.
 */
function parseStatusLine(line: string): Pick<ResponseHead, 'version' | 'status' | 'reason'> {
  const sp = line.indexOf(' ');
  if (sp < 0) throw malformed(`status line ${quote(line)} has no status code (RFC 9112 §4)`);
  const version = line.slice(0, sp);
  checkVersion(version);
  const code = line.slice(sp + 1, sp + 4);
  const after = line.slice(sp + 4);
  if (!/^[1-5]\d\d$/.test(code) || (after !== '' && after.charCodeAt(0) !== SP)) {
    throw malformed(`status line ${quote(line)} needs a status code 100-599 (RFC 9110 §15)`);
  }
  const reason = after.slice(1);
  for (let i = 0; i < reason.length; i++) {
    if (isForbiddenControl(reason.charCodeAt(i))) throw malformed('reason phrase holds a control character (RFC 9112 §4)');
  }
  return { version, status: Number(code), reason };
}

/** field-line = field-name ":" OWS field-value OWS (RFC 9112 §5), combined per RFC 9110 §5.3. */
function parseFieldLines(lines: readonly string[]): HttpHeadFields {
  const headers = new Map<string, string>();
  const rawHeaders: Array<[string, string]> = [];
  for (const line of lines) {
    const first = line.charCodeAt(0);
    if (first === SP || first === HTAB) throw malformed('obs-fold (a field line starting with whitespace) is refused (RFC 9112 §5.2)');
    const colon = line.indexOf(':');
    if (colon < 0) throw malformed(`field line ${quote(line)} has no colon (RFC 9112 §5)`);
    const name = line.slice(0, colon);
    if (!isToken(name)) throw malformed(`field name ${quote(name)} is not a token (RFC 9110 §5.1, RFC 9112 §5.1)`);
    const value = trimOws(line.slice(colon + 1));
    for (let i = 0; i < value.length; i++) {
      if (isForbiddenControl(value.charCodeAt(i))) throw malformed(`field ${quote(name)} holds a control character (RFC 9110 §5.5)`);
    }
    rawHeaders.push([name, value]);
    const key = name.toLowerCase();
    const previous = headers.get(key);
    headers.set(key, previous === undefined ? value : `${previous}, ${value}`);
  }
  return { headers, rawHeaders };
}

/**
 * An incremental HTTP/1.1 head parser: push the bytes as they arrive; it answers `null` until
 * the head's CRLF CRLF has arrived, then the parsed head. Each byte is scanned once, so
 * byte-by-byte delivery costs linear time, and bytes are buffered only up to `maxHeadSize`.
 *
 * Strict (RFC 9112): lines end in CRLF (a bare CR or LF is refused at once); HTTP/1.1 only;
 * header names are tokens with no whitespace before the colon; no obs-fold; no control
 * characters but HTAB in values; no NUL anywhere.
 *
 * Failures throw {@link HandshakeError}: `MALFORMED_HEAD` (400), `BAD_HTTP_VERSION`
 * (400, or 505 for another major version), `HEAD_TOO_LARGE` (431) once `maxHeadSize` bytes
 * have arrived without a complete head or there are more than `maxHeaders` field lines.
 *
 * @example
 * ```ts
 * const parser = new HttpHeadParser('request');
 * for await (const chunk of socket) {
 *   const result = parser.push(chunk);
 *   if (result === null) continue;
 *   result.head.headers.get('sec-websocket-key');
 *   frames.push(result.rest); // bytes that followed the head
 *   break;
 * }
 * ```
 */
export class HttpHeadParser<K extends HttpHeadKind> {
  /** Which start line this parser expects. */
  readonly kind: K;
  readonly #maxHeadSize: number;
  readonly #maxHeaders: number;
  #state: ParserState = 'scanning';
  #buffer = new Uint8Array(0);
  /** Bytes buffered; all of them have been scanned. */
  #length = 0;
  /** Offset where the line being scanned starts. */
  #lineStart = 0;
  /** Complete lines scanned so far (start line + field lines). */
  #lines = 0;

  constructor(kind: K, options: HttpHeadOptions = {}) {
    const { maxHeadSize = DEFAULT_MAX_HEAD_SIZE, maxHeaders = DEFAULT_MAX_HEADERS } = options;
    if (!Number.isSafeInteger(maxHeadSize) || maxHeadSize < 1) throw new RangeError('maxHeadSize must be a positive integer');
    if (!Number.isSafeInteger(maxHeaders) || maxHeaders < 0) throw new RangeError('maxHeaders must be a non-negative integer');
    this.kind = kind;
    this.#maxHeadSize = maxHeadSize;
    this.#maxHeaders = maxHeaders;
  }

  /** Bytes buffered so far while the head is incomplete. */
  get bytesBuffered(): number {
    return this.#length;
  }

  /**
   * Feeds the next chunk of the stream.
   *
   * @returns `null` while the head is incomplete, else the head, `bytesConsumed` and the
   *   `rest` of this chunk after the head.
   * @throws {HandshakeError} when the head is malformed or too large.
   * @throws {TypeError} when called again after a result or an error.
   */
  push(chunk: Uint8Array): HttpHeadResult<HttpHeadOf<K>> | null {
    if (this.#state !== 'scanning') throw new TypeError(`HttpHeadParser is ${this.#state}; create a new one per head`);
    try {
      return this.#scan(chunk);
    } catch (error) {
      this.#state = 'failed';
      throw error;
    }
  }

  #scan(chunk: Uint8Array): HttpHeadResult<HttpHeadOf<K>> | null {
    const start = this.#length;
    // Bytes past maxHeadSize can never belong to an acceptable head: do not buffer them.
    const take = Math.min(chunk.length, this.#maxHeadSize - start);
    this.#append(chunk, take);
    const buffer = this.#buffer;
    const end = this.#length;
    for (let i = start; i < end; i++) {
      const byte = buffer[i];
      if (i > 0 && buffer[i - 1] === CR && byte !== LF) throw malformed('bare CR: lines must end in CRLF (RFC 9112 §2.2)');
      if (byte === LF) {
        if (i === 0 || buffer[i - 1] !== CR) throw malformed('bare LF: lines must end in CRLF (RFC 9112 §2.2)');
        if (i - 1 === this.#lineStart) {
          // An empty line: the end of the head (RFC 9112 §2.1).
          if (this.#lines === 0) throw malformed('the head starts with an empty line (RFC 9112 §2.2)');
          this.#state = 'done';
          const head = this.#parse(i - 3);
          return { head, bytesConsumed: i + 1, rest: chunk.subarray(i + 1 - start) };
        }
        if (++this.#lines > this.#maxHeaders + 1) {
          throw new HandshakeError('HEAD_TOO_LARGE', `more than ${this.#maxHeaders} header fields`, 431);
        }
        this.#lineStart = i + 1;
      } else if (byte === 0) {
        throw malformed('NUL byte in the head (RFC 9110 §5.5)');
      }
    }
    if (end >= this.#maxHeadSize) {
      throw new HandshakeError('HEAD_TOO_LARGE', `the head exceeds ${this.#maxHeadSize} bytes`, 431);
    }
    return null;
  }

  #append(chunk: Uint8Array, take: number): void {
    const needed = this.#length + take;
    if (needed > this.#buffer.length) {
      const capacity = Math.min(this.#maxHeadSize, Math.max(needed, this.#buffer.length * 2, 1024));
      const grown = new Uint8Array(capacity);
      grown.set(this.#buffer.subarray(0, this.#length));
      this.#buffer = grown;
    }
    this.#buffer.set(chunk.subarray(0, take), this.#length);
    this.#length = needed;
  }

  /** Parses the lines in `[0, end)` (the head without its final CRLF CRLF). */
  #parse(end: number): HttpHeadOf<K> {
    const [startLine, ...fieldLines] = latin1(this.#buffer, 0, end).split('\r\n');
    const fields = parseFieldLines(fieldLines);
    const head: RequestHead | ResponseHead =
      this.kind === 'request'
        ? { kind: 'request', ...parseRequestLine(startLine), ...fields }
        : { kind: 'response', ...parseStatusLine(startLine), ...fields };
    return head as HttpHeadOf<K>;
  }
}

/**
 * Parses a request head from bytes holding its start (one-shot {@link HttpHeadParser}).
 *
 * @returns `null` when the bytes end before the head does.
 * @throws {HandshakeError} `MALFORMED_HEAD`, `BAD_HTTP_VERSION` or `HEAD_TOO_LARGE`.
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode('GET /chat HTTP/1.1\r\nHost: a\r\n\r\n');
 * parseRequestHead(bytes)?.head.target; // '/chat'
 * ```
 */
export function parseRequestHead(bytes: Uint8Array, options?: HttpHeadOptions): HttpHeadResult<RequestHead> | null {
  return new HttpHeadParser('request', options).push(bytes);
}

/**
 * Parses a response head from bytes holding its start (one-shot {@link HttpHeadParser}).
 *
 * @returns `null` when the bytes end before the head does.
 * @throws {HandshakeError} `MALFORMED_HEAD`, `BAD_HTTP_VERSION` or `HEAD_TOO_LARGE`.
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n');
 * parseResponseHead(bytes)?.head.status; // 101
 * ```
 */
export function parseResponseHead(bytes: Uint8Array, options?: HttpHeadOptions): HttpHeadResult<ResponseHead> | null {
  return new HttpHeadParser('response', options).push(bytes);
}

// ---------------------------------------------------------------------------------------
// Serializing. Heads are built as ASCII-only strings, so any encoder (TextEncoder included)
// turns them into the same bytes.
// ---------------------------------------------------------------------------------------

/** Header fields to send: a record, or `[name, value]` pairs (a `Map` or `Headers` fits). */
export type HeaderFieldsInit = Readonly<Record<string, string>> | Iterable<readonly [string, string]>;

/**
 * Reason phrases for the statuses the handshake sends, and those a fetch-style fallback
 * answers most (RFC 9110 §15).
 */
export const ReasonPhrase = {
  101: 'Switching Protocols',
  200: 'OK',
  201: 'Created',
  204: 'No Content',
  301: 'Moved Permanently',
  302: 'Found',
  304: 'Not Modified',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  411: 'Length Required',
  413: 'Content Too Large',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
} as const;
/** A status with a known reason phrase. */
export type KnownStatus = keyof typeof ReasonPhrase;

/**
 * Checks a field line to send: the name a token (RFC 9110 §5.1), the value visible ASCII, SP
 * or HTAB (RFC 9110 §5.5). CR and LF are refused above all: they would let the value end the
 * line and inject fields or a body (response splitting).
 *
 * @throws {TypeError} naming the field.
 * @example
 * ```ts
 * checkHeaderField('X-Id', '7\r\nSet-Cookie: a=b'); // throws TypeError
 * ```
 */
export function checkHeaderField(name: string, value: string): void {
  if (typeof name !== 'string' || !isToken(name)) throw new TypeError(`Header name ${JSON.stringify(name)} is not an RFC 9110 token`);
  if (typeof value !== 'string') throw new TypeError(`Header "${name}" needs a string value`);
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === CR || code === LF || code === 0) throw new TypeError(`Header "${name}" value holds CR, LF or NUL`);
    if (code > 0x7e || isForbiddenControl(code)) throw new TypeError(`Header "${name}" value must be visible ASCII, SP or HTAB`);
  }
}

/**
 * Normalizes header fields to send into checked `[name, value]` pairs, in order.
 *
 * @throws {TypeError} when a field fails {@link checkHeaderField}.
 * @example
 * ```ts
 * headerFieldEntries({ 'X-A': '1' }); // [['X-A', '1']]
 * ```
 */
export function headerFieldEntries(init: HeaderFieldsInit | undefined): Array<[string, string]> {
  if (init === undefined) return [];
  const pairs: Iterable<readonly [string, string]> = Symbol.iterator in init ? (init as Iterable<readonly [string, string]>) : Object.entries(init);
  const entries: Array<[string, string]> = [];
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError('Header fields must be [name, value] pairs');
    const [name, value] = pair as readonly [string, string];
    checkHeaderField(name, value);
    entries.push([name, value]);
  }
  return entries;
}

function fieldLines(entries: ReadonlyArray<readonly [string, string]>): string {
  return entries.map(([name, value]) => `${name}: ${value}\r\n`).join('');
}

/**
 * Builds a request head (RFC 9112 §3) ending in CRLF CRLF.
 *
 * @throws {TypeError} for a method that is not a token, a target that is not visible ASCII,
 *   or a field failing {@link checkHeaderField}.
 * @example
 * ```ts
 * serializeRequestHead({ method: 'GET', target: '/', headers: { Host: 'a' } });
 * // 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'
 * ```
 */
export function serializeRequestHead(init: { method: string; target: string; headers?: HeaderFieldsInit }): string {
  if (!isToken(init.method)) throw new TypeError(`Method ${JSON.stringify(init.method)} is not a token`);
  if (!/^[\x21-\x7e]+$/.test(init.target)) throw new TypeError(`Request target ${JSON.stringify(init.target)} must be visible ASCII`);
  return `${init.method} ${init.target} HTTP/1.1\r\n${fieldLines(headerFieldEntries(init.headers))}\r\n`;
}

/**
 * Builds a response head (RFC 9112 §4) ending in CRLF CRLF. The reason phrase defaults to
 * the registered one ({@link ReasonPhrase}) or is left empty.
 *
 * @throws {RangeError} for a status outside 100–599.
 * @throws {TypeError} for a reason with control or non-ASCII characters, or a bad field.
 * @example
 * ```ts
 * serializeResponseHead({ status: 426, headers: { 'Sec-WebSocket-Version': '13' } });
 * // 'HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\n\r\n'
 * ```
 */
export function serializeResponseHead(init: { status: number; reason?: string; headers?: HeaderFieldsInit }): string {
  const { status } = init;
  if (!Number.isInteger(status) || status < 100 || status > 599) throw new RangeError(`Status ${status} is not in 100-599`);
  const reason = init.reason ?? (ReasonPhrase as Record<number, string>)[status] ?? '';
  if (!/^[\t\x20-\x7e]*$/.test(reason)) throw new TypeError('Reason phrase must be visible ASCII, SP or HTAB');
  return `HTTP/1.1 ${status} ${reason}\r\n${fieldLines(headerFieldEntries(init.headers))}\r\n`;
}
