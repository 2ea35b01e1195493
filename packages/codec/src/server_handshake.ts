/**
 * The server side of the opening handshake (RFC 6455 §4.2): validate a client's upgrade
 * request, negotiate subprotocol and extensions, and build the 101 answer or a refusal.
 * Sans-I/O: input is a parsed head (or any runtime's request adapted to
 * {@link UpgradeRequest}); output is strings to write.
 * @module
 */
import { acceptKey, acceptKeyOf, isValidKey, type Sha1, type SyncSha1 } from './accept_key.ts';
import { HandshakeError } from './errors.ts';
import {
  type ExtensionOffer,
  checkExtensions,
  listContainsToken,
  parseExtensionHeader,
  parseProtocolHeader,
  serializeExtensionHeader,
  serializeProtocolHeader,
} from './header_grammar.ts';
import { type HeaderFieldsInit, type HeaderLookup, headerFieldEntries, serializeResponseHead } from './http_head.ts';

/** The only protocol version this codec speaks (RFC 6455 §4.1 item 9, §11.6). */
export const WEBSOCKET_VERSION = '13' as const;

/**
 * An upgrade request to validate. A {@link RequestHead} from the head parser fits as is; a
 * runtime's request object is adapted, e.g. Node's `IncomingMessage` as
 * `{ method: req.method, version: `HTTP/${req.httpVersion}`, headers: { get: (n) => … } }`.
 */
export interface UpgradeRequest {
  /** The request method, e.g. `GET`. */
  method: string;
  /** The protocol version as on the request line, e.g. `HTTP/1.1`. */
  version: string;
  /** Field values by lower-case name, repeated fields joined with `, `. */
  headers: HeaderLookup;
}

/** Options of {@link validateUpgradeRequest} and {@link acceptUpgrade}. */
export interface ServerHandshakeOptions {
  /**
   * Origins allowed to connect (RFC 6455 §4.2.2 item 4, §10.2): exact `Origin` values such
   * as `https://example.com`, or a predicate. With a list, a request without `Origin` is
   * refused; a predicate receives `undefined` for it and decides. Default: any origin.
   */
  allowedOrigins?: readonly string[] | ((origin: string | undefined, request: UpgradeRequest) => boolean);
  /**
   * Picks the subprotocol among those the client offered, in the client's order
   * (RFC 6455 §4.2.2 item 5.4 /subprotocol/); `null` or `undefined` selects none. Called only
   * when the client offered some. Default: select none.
   */
  handleProtocols?: (offered: string[], request: UpgradeRequest) => string | null | undefined;
  /**
   * Returns the extensions accepted among the client's offers, with the parameters of the
   * response (RFC 6455 §9.1), in the order they apply. Default: accept none.
   */
  negotiateExtensions?: (offers: ExtensionOffer[], request: UpgradeRequest) => ExtensionOffer[];
  /** Extra fields for the 101 response (not the handshake's own). */
  headers?: HeaderFieldsInit;
}

/** What a valid upgrade request asked for and what was negotiated. */
export interface NegotiatedUpgrade {
  /** The client's `Sec-WebSocket-Key`. */
  key: string;
  /** The `Origin` field, if sent. */
  origin: string | undefined;
  /** The subprotocols the client offered, in its order. */
  offeredProtocols: string[];
  /** The extensions the client offered, in its order. */
  offeredExtensions: ExtensionOffer[];
  /** The selected subprotocol, `''` for none (as `WebSocket#protocol`). */
  protocol: string;
  /** The accepted extensions, as they will be sent back. */
  extensions: ExtensionOffer[];
}

/** A negotiated upgrade and its 101 response head. */
export interface AcceptedUpgrade extends NegotiatedUpgrade {
  /** The complete `101 Switching Protocols` head to write, ending in CRLF CRLF. */
  response: string;
}

/** What a 101 response says (see {@link buildServerResponse}). */
export interface ServerResponseInit {
  /** The client's `Sec-WebSocket-Key`, already validated. */
  key: string;
  /** The selected subprotocol; omitted or `''` for none. */
  protocol?: string;
  /** The accepted extensions; omitted or empty for none. */
  extensions?: readonly ExtensionOffer[];
  /** Extra fields (not the handshake's own). */
  headers?: HeaderFieldsInit;
  /** A SHA-1 to compute the accept key with instead of Web Crypto's (see {@link Sha1}). */
  sha1?: Sha1;
}

/** Fields the handshake writes itself; extra headers may not repeat them. */
const HANDSHAKE_RESPONSE_FIELDS: ReadonlySet<string> = new Set([
  'upgrade',
  'connection',
  'sec-websocket-accept',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'sec-websocket-version',
]);

/** Fields {@link buildRejection} writes itself. */
const REJECTION_FIELDS: ReadonlySet<string> = new Set(['connection', 'content-length', 'transfer-encoding']);

function field(request: UpgradeRequest, name: string): string | undefined {
  return request.headers.get(name) ?? undefined;
}

function isOriginAllowed(options: ServerHandshakeOptions, origin: string | undefined, request: UpgradeRequest): boolean {
  const { allowedOrigins } = options;
  if (allowedOrigins === undefined) return true;
  if (typeof allowedOrigins === 'function') return allowedOrigins(origin, request);
  return origin !== undefined && allowedOrigins.includes(origin);
}

/**
 * Validates an upgrade request (RFC 6455 §4.2.1) and negotiates subprotocol and extensions.
 * Checks, in order: method `GET`, `HTTP/1.1`, one `Host`, no request body, `Upgrade` lists
 * `websocket`, `Connection` lists `Upgrade`, `Sec-WebSocket-Version: 13`, a valid
 * `Sec-WebSocket-Key`, an allowed `Origin`, well-formed `Sec-WebSocket-Protocol` and
 * `Sec-WebSocket-Extensions`.
 *
 * A wrong method is refused with 400 `BAD_METHOD` rather than 405: RFC 6455 §4.2.2 only asks
 * for "an appropriate HTTP error code such as 400", and a 405 would claim (RFC 9110 §15.5.6)
 * that the resource supports no other method, which an HTTP server hosting the endpoint may.
 *
 * @throws {HandshakeError} with the status to refuse with: 400 (`BAD_METHOD`,
 *   `BAD_HTTP_VERSION`, `MISSING_HOST`, `MALFORMED_HEAD`, `BAD_UPGRADE`, `BAD_CONNECTION`,
 *   `BAD_KEY`, `BAD_PROTOCOL`, `BAD_EXTENSION`), 426 `BAD_VERSION` carrying
 *   `Sec-WebSocket-Version: 13`, 403 `FORBIDDEN_ORIGIN`.
 * @throws {TypeError} when `handleProtocols` picks a subprotocol the client did not offer, or
 *   `negotiateExtensions` accepts an extension not offered, twice, or not a valid one.
 * @example
 * ```ts
 * const { protocol } = validateUpgradeRequest(head, {
 *   allowedOrigins: ['https://example.com'],
 *   handleProtocols: (offered) => (offered.includes('chat') ? 'chat' : null),
 * });
 * ```
 */
export function validateUpgradeRequest(request: UpgradeRequest, options: ServerHandshakeOptions = {}): NegotiatedUpgrade {
  // §4.2.1 item 1: "An HTTP/1.1 or higher GET request". Methods are case-sensitive (RFC 9110 §9.1).
  if (request.method !== 'GET') {
    throw new HandshakeError('BAD_METHOD', `The method must be GET, not ${JSON.stringify(request.method)} (RFC 6455 §4.2.1)`, 400);
  }
  if (request.version !== 'HTTP/1.1') {
    throw new HandshakeError('BAD_HTTP_VERSION', 'The handshake needs HTTP/1.1 (RFC 6455 §4.2.1)', 400);
  }

  // §4.2.1 item 2, RFC 9112 §3.2: exactly one Host. Repeated fields arrive joined with ", ",
  // and a host (uri-host [":" port]) never holds whitespace.
  const host = field(request, 'host');
  if (host === undefined || host === '') throw new HandshakeError('MISSING_HOST', 'The Host field is missing (RFC 6455 §4.2.1)', 400);
  if (/\s/.test(host)) throw new HandshakeError('MALFORMED_HEAD', 'Host must be a single host[:port] (RFC 9112 §3.2)', 400);

  // A body would be read as frames by us but as a body by any HTTP intermediary: refuse it
  // rather than let the two disagree (RFC 9112 §6.3 message framing).
  const contentLength = field(request, 'content-length');
  if (field(request, 'transfer-encoding') !== undefined || (contentLength !== undefined && contentLength !== '0')) {
    throw new HandshakeError('MALFORMED_HEAD', 'An upgrade request must not carry a body', 400);
  }

  // §4.2.1 items 3 and 4: both are comma lists, compared ASCII case-insensitively.
  if (!listContainsToken(field(request, 'upgrade') ?? '', 'websocket')) {
    throw new HandshakeError('BAD_UPGRADE', 'The Upgrade field must list "websocket" (RFC 6455 §4.2.1)', 400);
  }
  if (!listContainsToken(field(request, 'connection') ?? '', 'upgrade')) {
    throw new HandshakeError('BAD_CONNECTION', 'The Connection field must list "Upgrade" (RFC 6455 §4.2.1)', 400);
  }

  // §4.2.1 item 6, §4.4: another (or no) version gets 426 naming the one we speak. A client
  // without the field is a pre-RFC draft, which the same answer serves.
  if (field(request, 'sec-websocket-version') !== WEBSOCKET_VERSION) {
    throw new HandshakeError('BAD_VERSION', 'Sec-WebSocket-Version must be 13 (RFC 6455 §4.4)', 426, {
      'Sec-WebSocket-Version': WEBSOCKET_VERSION,
    });
  }

  // §4.2.1 item 5: base64 of a 16-byte nonce. A repeated field arrives joined and fails here.
  const key = field(request, 'sec-websocket-key');
  if (key === undefined || !isValidKey(key)) {
    throw new HandshakeError('BAD_KEY', 'Sec-WebSocket-Key must be the base64 of 16 bytes (RFC 6455 §4.2.1)', 400);
  }

  // §4.2.2 item 4, §10.2: the Origin check protects against cross-site use by browsers.
  const origin = field(request, 'origin');
  if (!isOriginAllowed(options, origin, request)) {
    throw new HandshakeError('FORBIDDEN_ORIGIN', `Origin ${JSON.stringify(origin ?? null)} is not allowed (RFC 6455 §10.2)`, 403);
  }

  // §4.2.1 item 8, §4.2.2 item 5.4 /subprotocol/: the server selects one offered value or none.
  const protocolField = field(request, 'sec-websocket-protocol');
  const offeredProtocols = protocolField === undefined ? [] : parseProtocolHeader(protocolField);
  let protocol = '';
  if (offeredProtocols.length > 0 && options.handleProtocols !== undefined) {
    const selected = options.handleProtocols([...offeredProtocols], request);
    if (selected !== null && selected !== undefined) {
      if (!offeredProtocols.includes(selected)) {
        throw new TypeError(`handleProtocols selected ${JSON.stringify(selected)}, which the client did not offer`);
      }
      protocol = selected;
    }
  }

  // §4.2.1 item 9, §9.1: accepted extensions must be among the offered ones.
  const extensionField = field(request, 'sec-websocket-extensions');
  const offeredExtensions = extensionField === undefined ? [] : parseExtensionHeader(extensionField);
  let extensions: ExtensionOffer[] = [];
  if (offeredExtensions.length > 0 && options.negotiateExtensions !== undefined) {
    extensions = options.negotiateExtensions(
      offeredExtensions.map(({ name, params }) => ({ name, params: params.map(([p, v]): [string, string | true] => [p, v]) })),
      request,
    );
    checkExtensions(extensions);
    const seen = new Set<string>();
    for (const { name } of extensions) {
      if (!offeredExtensions.some((offer) => offer.name === name)) {
        throw new TypeError(`negotiateExtensions accepted "${name}", which the client did not offer`);
      }
      if (seen.has(name)) throw new TypeError(`negotiateExtensions accepted "${name}" twice`);
      seen.add(name);
    }
  }

  return { key, origin, offeredProtocols, offeredExtensions, protocol, extensions };
}

/**
 * Builds the `101 Switching Protocols` head (RFC 6455 §4.2.2 item 5): `Upgrade`,
 * `Connection`, `Sec-WebSocket-Accept`, then `Sec-WebSocket-Protocol` and
 * `Sec-WebSocket-Extensions` when negotiated, then the extra fields.
 *
 * @throws {TypeError} when an extra field is invalid (CR/LF: response splitting) or repeats
 *   a handshake field, or the protocol/extensions are not valid tokens.
 * @example
 * ```ts
 * await buildServerResponse({ key: 'dGhlIHNhbXBsZSBub25jZQ==', protocol: 'chat' });
 * // 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
 * // + 'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n'
 * ```
 */
export async function buildServerResponse(init: ServerResponseInit): Promise<string> {
  return responseHead(init, await acceptKey(init.key, init.sha1));
}

/**
 * {@link buildServerResponse}, synchronously: with the given SHA-1, else the codec's own.
 * @throws {TypeError} as {@link buildServerResponse}
 * @example
 * ```ts
 * serverResponse({ key: 'dGhlIHNhbXBsZSBub25jZQ==' }).startsWith('HTTP/1.1 101'); // true
 * ```
 */
export function serverResponse(init: Omit<ServerResponseInit, 'sha1'>, sha1?: SyncSha1): string {
  return responseHead(init, acceptKeyOf(init.key, sha1));
}

function responseHead(init: Omit<ServerResponseInit, 'sha1'>, accept: string): string {
  const extra = headerFieldEntries(init.headers);
  for (const [name] of extra) {
    if (HANDSHAKE_RESPONSE_FIELDS.has(name.toLowerCase())) throw new TypeError(`Header "${name}" is set by the handshake itself`);
  }
  const fields: Array<[string, string]> = [
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Accept', accept],
  ];
  if (init.protocol !== undefined && init.protocol !== '') {
    fields.push(['Sec-WebSocket-Protocol', serializeProtocolHeader([init.protocol])]);
  }
  if (init.extensions !== undefined && init.extensions.length > 0) {
    fields.push(['Sec-WebSocket-Extensions', serializeExtensionHeader(init.extensions)]);
  }
  return serializeResponseHead({ status: 101, headers: [...fields, ...extra] });
}

/**
 * Validates an upgrade request and builds its 101 answer: {@link validateUpgradeRequest}
 * followed by {@link buildServerResponse}. Write `response` to the socket, then speak frames.
 *
 * @throws {HandshakeError} as {@link validateUpgradeRequest}; answer it with
 *   `buildRejection(error.status, error.headers, error.message)`.
 * @example
 * ```ts
 * try {
 *   const { response, protocol } = await acceptUpgrade(head, { handleProtocols: (p) => p[0] });
 *   socket.write(new TextEncoder().encode(response));
 * } catch (error) {
 *   if (!(error instanceof HandshakeError)) throw error;
 *   socket.end(new TextEncoder().encode(buildRejection(error.status, error.headers, error.message)));
 * }
 * ```
 */
export async function acceptUpgrade(request: UpgradeRequest, options: ServerHandshakeOptions = {}): Promise<AcceptedUpgrade> {
  const negotiated = validateUpgradeRequest(request, options);
  const response = await buildServerResponse({
    key: negotiated.key,
    protocol: negotiated.protocol,
    extensions: negotiated.extensions,
    headers: options.headers,
  });
  return { ...negotiated, response };
}

/**
 * Builds a complete HTTP/1.1 error response refusing a handshake (RFC 6455 §4.2.2, §4.4):
 * status line, `Connection: close`, `Content-Type: text/plain; charset=utf-8` (unless given),
 * `Content-Length`, the extra fields, then the body. The head is ASCII and the body UTF-8, so
 * encode the whole string with `TextEncoder`; then close the connection.
 *
 * @param status An HTTP status, typically 400, 403, 426 or 431.
 * @param headers Extra fields, e.g. a {@link HandshakeError}'s `headers`.
 * @param body The body text; default empty.
 * @throws {RangeError} for a status outside 300–599.
 * @throws {TypeError} when a field is invalid (CR/LF) or is one this function writes.
 * @example
 * ```ts
 * buildRejection(426, { 'Sec-WebSocket-Version': '13' });
 * // 'HTTP/1.1 426 Upgrade Required\r\nConnection: close\r\n'
 * // + 'Content-Type: text/plain; charset=utf-8\r\nContent-Length: 0\r\nSec-WebSocket-Version: 13\r\n\r\n'
 * ```
 */
export function buildRejection(status: number, headers?: HeaderFieldsInit, body = ''): string {
  if (!Number.isInteger(status) || status < 300 || status > 599) throw new RangeError(`A rejection status must be 300-599, not ${status}`);
  const extra = headerFieldEntries(headers);
  for (const [name] of extra) {
    if (REJECTION_FIELDS.has(name.toLowerCase())) throw new TypeError(`Header "${name}" is set by buildRejection itself`);
  }
  const fields: Array<[string, string]> = [['Connection', 'close']];
  if (!extra.some(([name]) => name.toLowerCase() === 'content-type')) fields.push(['Content-Type', 'text/plain; charset=utf-8']);
  fields.push(['Content-Length', String(new TextEncoder().encode(body).length)]);
  return serializeResponseHead({ status, headers: [...fields, ...extra] }) + body;
}
