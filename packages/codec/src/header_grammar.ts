/**
 * Grammar of the WebSocket handshake header fields: tokens (RFC 9110 §5.6.2), comma lists
 * (RFC 9110 §5.6.1), `Sec-WebSocket-Protocol` (RFC 6455 §4.1, §11.3.4) and
 * `Sec-WebSocket-Extensions` (RFC 6455 §9.1). Each wire value has parse / serialize / check:
 * parsing reads what a peer sent and throws {@link HandshakeError}; checking and serializing
 * validate what the local program asked for and throw `TypeError`.
 * @module
 */
import { HandshakeError } from './errors.ts';

/**
 * `tchar` lookup for ASCII (RFC 9110 §5.6.2):
 * `"!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA`.
 */
const TCHAR: Uint8Array = (() => {
  const table = new Uint8Array(128);
  for (const c of "!#$%&'*+-.^_`|~") table[c.charCodeAt(0)] = 1;
  for (let c = 0x30; c <= 0x39; c++) table[c] = 1; // DIGIT
  for (let c = 0x41; c <= 0x5a; c++) table[c] = 1; // upper ALPHA
  for (let c = 0x61; c <= 0x7a; c++) table[c] = 1; // lower ALPHA
  return table;
})();

/** Whether a UTF-16 code unit is a `tchar` (RFC 9110 §5.6.2). */
export function isTokenChar(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

/**
 * Whether `value` is an RFC 9110 §5.6.2 `token` (`1*tchar`): the grammar of header names,
 * methods, subprotocols, extension names and their parameters.
 *
 * @example
 * ```ts
 * isToken('chat.v2');   // true
 * isToken('a b');       // false: SP is a delimiter
 * isToken('');          // false: a token has at least one character
 * ```
 */
export function isToken(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) {
    if (!isTokenChar(value.charCodeAt(i))) return false;
  }
  return true;
}

/** Optional whitespace: SP or HTAB (RFC 9110 §5.6.3). */
function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/** Strips OWS (SP / HTAB, RFC 9110 §5.6.3) from both ends; `String#trim` would strip more. */
export function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  return value.slice(start, end);
}

/**
 * Whether a comma-separated list field (`#element`, RFC 9110 §5.6.1) such as `Upgrade` or
 * `Connection` holds `token`, compared ASCII case-insensitively. Empty list elements are
 * ignored, as §5.6.1 asks of recipients.
 *
 * @example
 * ```ts
 * listContainsToken('keep-alive, Upgrade', 'upgrade'); // true
 * listContainsToken('websocket/13', 'websocket');      // false
 * ```
 */
export function listContainsToken(list: string, token: string): boolean {
  const wanted = token.toLowerCase();
  for (const element of list.split(',')) {
    if (trimOws(element).toLowerCase() === wanted) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// Sec-WebSocket-Protocol (RFC 6455 §4.1 item 10, §11.3.4): 1#token, unique, case-sensitive.
// ---------------------------------------------------------------------------------------

/**
 * Parses a received `Sec-WebSocket-Protocol` value (`1#token`, RFC 6455 §11.3.4). A request
 * may repeat the field; pass the values joined with `, ` (as the head parser combines them).
 * Empty elements, invalid tokens and duplicates (compared case-sensitively) are refused.
 *
 * @throws {HandshakeError} `BAD_PROTOCOL` (400) when the value breaks the grammar.
 * @example
 * ```ts
 * parseProtocolHeader('chat, superchat'); // ['chat', 'superchat']
 * parseProtocolHeader('chat,,x');         // throws HandshakeError BAD_PROTOCOL
 * ```
 */
export function parseProtocolHeader(value: string): string[] {
  const protocols: string[] = [];
  for (const element of value.split(',')) {
    const protocol = trimOws(element);
    if (!isToken(protocol)) {
      throw new HandshakeError(
        'BAD_PROTOCOL',
        protocol === '' ? 'Sec-WebSocket-Protocol has an empty element' : `Sec-WebSocket-Protocol element "${protocol}" is not a token`,
      );
    }
    if (protocols.includes(protocol)) {
      throw new HandshakeError('BAD_PROTOCOL', `Sec-WebSocket-Protocol repeats "${protocol}"`);
    }
    protocols.push(protocol);
  }
  return protocols;
}

/**
 * Checks a list of subprotocols a program wants to offer or select: each a token
 * (RFC 6455 §4.1 item 10), none repeated.
 *
 * @throws {TypeError} naming the first offending element.
 * @example
 * ```ts
 * checkProtocols(['chat', 'chat']); // throws TypeError: repeated
 * ```
 */
export function checkProtocols(protocols: readonly string[]): void {
  const seen = new Set<string>();
  for (const protocol of protocols) {
    if (typeof protocol !== 'string' || !isToken(protocol)) {
      throw new TypeError(`Subprotocol ${JSON.stringify(protocol)} is not an RFC 9110 token`);
    }
    if (seen.has(protocol)) throw new TypeError(`Subprotocol "${protocol}" is repeated`);
    seen.add(protocol);
  }
}

/**
 * Serializes subprotocols as a `Sec-WebSocket-Protocol` value, after {@link checkProtocols}.
 *
 * @throws {TypeError} when the list is empty or an element is invalid or repeated.
 * @example
 * ```ts
 * serializeProtocolHeader(['chat', 'superchat']); // 'chat, superchat'
 * ```
 */
export function serializeProtocolHeader(protocols: readonly string[]): string {
  if (protocols.length === 0) throw new TypeError('Sec-WebSocket-Protocol needs at least one subprotocol');
  checkProtocols(protocols);
  return protocols.join(', ');
}

// ---------------------------------------------------------------------------------------
// Sec-WebSocket-Extensions (RFC 6455 §9.1):
//   extension-list = 1#extension
//   extension      = extension-token *( ";" extension-param )
//   extension-param = token [ "=" (token | quoted-string) ]
//     ; a quoted-string value, once unescaped, MUST itself be a token
// Implied linear whitespace (RFC 2616 §2.1) is accepted around ",", ";" and "=".
// ---------------------------------------------------------------------------------------

/** A parameter of an extension: `name=value`, or `[name, true]` for a bare `name`. */
export type ExtensionParam = [name: string, value: string | true];

/**
 * One element of a `Sec-WebSocket-Extensions` list (RFC 6455 §9.1): an extension offered by a
 * client or accepted by a server, with its parameters in wire order (repeats kept, so that a
 * specific extension such as permessage-deflate can refuse them).
 */
export interface ExtensionOffer {
  /** The extension token, e.g. `permessage-deflate`. */
  name: string;
  /** Parameters in wire order; `true` stands for a parameter without a value. */
  params: ExtensionParam[];
}

/** A cursor over a header value, for the §9.1 grammar. */
class Cursor {
  pos = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string {
    return this.text.charAt(this.pos);
  }

  skipOws(): void {
    while (this.pos < this.text.length && isOws(this.text.charCodeAt(this.pos))) this.pos++;
  }

  /** Reads `1*tchar`, or returns `''` when none is there. */
  token(): string {
    const start = this.pos;
    while (this.pos < this.text.length && isTokenChar(this.text.charCodeAt(this.pos))) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /**
   * Reads a quoted-string (RFC 9110 §5.6.4) whose opening DQUOTE is at the cursor and returns
   * it unescaped, or `null` when it is unterminated or holds a character no token may hold
   * (§9.1 requires the unescaped value to be a token, so anything else fails here already).
   */
  quotedToken(): string | null {
    this.pos++; // opening DQUOTE
    let value = '';
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos++);
      if (c === 0x22) return value; // closing DQUOTE
      const unescaped = c === 0x5c ? this.text.charCodeAt(this.pos++) : c; // quoted-pair
      if (!isTokenChar(unescaped)) return null;
      value += String.fromCharCode(unescaped);
    }
    return null;
  }
}

function badExtension(message: string): HandshakeError {
  return new HandshakeError('BAD_EXTENSION', `Sec-WebSocket-Extensions: ${message}`);
}

/**
 * Parses a received `Sec-WebSocket-Extensions` value (RFC 6455 §9.1). A request may repeat the
 * field; pass the values joined with `, `. Quoted parameter values are unescaped and must be
 * tokens. Extension names may repeat (a client may offer alternatives); whether that is
 * acceptable is for the negotiating extension to judge.
 *
 * @throws {HandshakeError} `BAD_EXTENSION` (400) when the value breaks the grammar.
 * @example
 * ```ts
 * parseExtensionHeader('permessage-deflate; client_max_window_bits, x-foo; a="1"');
 * // [{ name: 'permessage-deflate', params: [['client_max_window_bits', true]] },
 * //  { name: 'x-foo', params: [['a', '1']] }]
 * ```
 */
export function parseExtensionHeader(value: string): ExtensionOffer[] {
  const cursor = new Cursor(value);
  const extensions: ExtensionOffer[] = [];
  cursor.skipOws();
  for (;;) {
    const name = cursor.token();
    if (name === '') throw badExtension(cursor.done ? 'missing extension name' : `unexpected "${cursor.peek()}" where an extension name belongs`);
    const params: ExtensionParam[] = [];
    cursor.skipOws();
    while (cursor.peek() === ';') {
      cursor.pos++;
      cursor.skipOws();
      const param = cursor.token();
      if (param === '') throw badExtension(`missing parameter name in "${name}"`);
      cursor.skipOws();
      let paramValue: string | true = true;
      if (cursor.peek() === '=') {
        cursor.pos++;
        cursor.skipOws();
        const quoted = cursor.peek() === '"';
        const read = quoted ? cursor.quotedToken() : cursor.token();
        if (read === null || read === '') throw badExtension(`parameter "${param}" of "${name}" needs a token value`);
        paramValue = read;
        cursor.skipOws();
      }
      params.push([param, paramValue]);
    }
    extensions.push({ name, params });
    if (cursor.done) return extensions;
    if (cursor.peek() !== ',') throw badExtension(`unexpected "${cursor.peek()}" after extension "${name}"`);
    cursor.pos++;
    cursor.skipOws();
  }
}

/**
 * Checks extensions a program wants to offer or accept: names, parameter names and parameter
 * values must all be tokens (RFC 6455 §9.1), so they serialize without quoting.
 *
 * @throws {TypeError} naming the first offending part.
 * @example
 * ```ts
 * checkExtensions([{ name: 'x-foo', params: [['a', 'b c']] }]); // throws TypeError
 * ```
 */
export function checkExtensions(extensions: readonly ExtensionOffer[]): void {
  for (const extension of extensions) {
    if (typeof extension?.name !== 'string' || !isToken(extension.name)) {
      throw new TypeError(`Extension name ${JSON.stringify(extension?.name)} is not an RFC 9110 token`);
    }
    if (!Array.isArray(extension.params)) throw new TypeError(`Extension "${extension.name}" needs a params array`);
    for (const [param, value] of extension.params) {
      if (typeof param !== 'string' || !isToken(param)) {
        throw new TypeError(`Parameter ${JSON.stringify(param)} of extension "${extension.name}" is not a token`);
      }
      if (value !== true && (typeof value !== 'string' || !isToken(value))) {
        throw new TypeError(`Value ${JSON.stringify(value)} of parameter "${param}" is not a token`);
      }
    }
  }
}

/**
 * Serializes extensions as a `Sec-WebSocket-Extensions` value, after {@link checkExtensions}.
 * Values are always written in token form; {@link parseExtensionHeader} reads them back equal.
 *
 * @throws {TypeError} when the list is empty or any part is not a token.
 * @example
 * ```ts
 * serializeExtensionHeader([{ name: 'permessage-deflate', params: [['server_no_context_takeover', true]] }]);
 * // 'permessage-deflate; server_no_context_takeover'
 * ```
 */
export function serializeExtensionHeader(extensions: readonly ExtensionOffer[]): string {
  if (extensions.length === 0) throw new TypeError('Sec-WebSocket-Extensions needs at least one extension');
  checkExtensions(extensions);
  return extensions
    .map(({ name, params }) => [name, ...params.map(([param, value]) => (value === true ? param : `${param}=${value}`))].join('; '))
    .join(', ');
}

/**
 * `Host = uri-host [ ":" port ]` (RFC 9110 §7.2, RFC 3986 §3.2.2): a bracketed IP literal,
 * or a reg-name / IPv4 of unreserved, percent-encoded and sub-delim characters, then an
 * optional decimal port. A value with `/`, `?`, `#`, `@`, whitespace or anything else
 * outside that grammar is refused: pasted into a URL it would change its path, query or
 * user info.
 */
const IP_LITERAL_HOST = /^\[[0-9A-Fa-f:.]+\](?::[0-9]{0,5})?$/;
const REG_NAME_HOST = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+(?::[0-9]{0,5})?$/;

/**
 * Whether `value` is a valid `Host` field value (RFC 9110 §7.2): what a server may resolve
 * a request-target against without the result changing shape.
 *
 * @example
 * ```ts
 * isValidHost('example.com:8080'); // true
 * isValidHost('[::1]:443');        // true
 * isValidHost('x/admin?');         // false: a path and a query would ride in
 * isValidHost('user@example.com'); // false: user info
 * ```
 */
export function isValidHost(value: string): boolean {
  return value.length > 0 && value.length <= 1024 && (IP_LITERAL_HOST.test(value) || REG_NAME_HOST.test(value));
}
