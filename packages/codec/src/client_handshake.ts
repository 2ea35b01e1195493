/**
 * The client side of the opening handshake (RFC 6455 §4.1): build the upgrade request from a
 * `ws:`/`wss:` URL, then validate the server's response. Sans-I/O: output is the request head
 * to write; input is a parsed response head (or any runtime's response adapted to
 * {@link UpgradeResponse}).
 * @module
 */
import { acceptKeyOf, generateKey, isValidKey, type SyncSha1 } from './accept_key.ts';
import { HandshakeError } from './errors.ts';
import {
  type ExtensionOffer,
  checkProtocols,
  listContainsToken,
  parseExtensionHeader,
  serializeExtensionHeader,
} from './header_grammar.ts';
import { type HeaderFieldsInit, type HeaderLookup, headerFieldEntries, serializeRequestHead } from './http_head.ts';
import { WEBSOCKET_VERSION } from './server_handshake.ts';
import { basicCredentials } from './basic_credentials.ts';

/** Options of {@link buildClientRequest}. */
export interface ClientRequestOptions {
  /** A `ws:` or `wss:` URL without a fragment (RFC 6455 §3). */
  url: string | URL;
  /** Subprotocols to offer, in order of preference: tokens, no repeats (RFC 6455 §4.1 item 10). */
  protocols?: string | readonly string[];
  /** Extensions to offer (RFC 6455 §4.1 item 11, §9.1): a header value or parsed offers. */
  extensions?: string | readonly ExtensionOffer[];
  /** Extra request fields. `Host` here replaces the one derived from the URL; the handshake's own fields are refused. */
  headers?: HeaderFieldsInit;
  /** The `Origin` to send (RFC 6455 §4.1 item 8), as browsers do; omitted by default. */
  origin?: string;
  /** A fixed `Sec-WebSocket-Key`, for tests; default a fresh {@link generateKey}. */
  key?: string;
}

/** What the client offered: the expectations {@link validateServerResponse} checks against. */
export interface ExpectedUpgrade {
  /** The `Sec-WebSocket-Key` sent. */
  key: string;
  /** The subprotocols offered; omitted means none. */
  protocols?: readonly string[];
  /** The extensions offered; omitted means none. */
  extensions?: readonly ExtensionOffer[];
}

/** A built upgrade request, with what a runtime needs to dial and to check the answer. */
export interface ClientRequest extends ExpectedUpgrade {
  /** The complete `GET` head to write, ASCII, ending in CRLF CRLF. */
  request: string;
  key: string;
  protocols: string[];
  extensions: ExtensionOffer[];
  /** The parsed URL. */
  url: URL;
  /** Whether to dial TLS (`wss:`). */
  secure: boolean;
  /** The host to dial, IPv6 literals without brackets. */
  hostname: string;
  /** The port to dial: the URL's, else 80 for `ws:` and 443 for `wss:` (RFC 6455 §3). */
  port: number;
}

/** A response to the upgrade request. A {@link ResponseHead} from the head parser fits as is. */
export interface UpgradeResponse {
  /** The status code. */
  status: number;
  /** Field values by lower-case name, repeated fields joined with `, `. */
  headers: HeaderLookup;
}

/** What the server agreed to. */
export interface ClientHandshakeResult {
  /** The subprotocol the server selected, `''` for none (as `WebSocket#protocol`). */
  protocol: string;
  /** The extensions the server accepted, with its parameters, in its order. */
  extensions: ExtensionOffer[];
}

/** Fields the handshake writes itself; extra headers may not set them. */
const HANDSHAKE_REQUEST_FIELDS: ReadonlySet<string> = new Set([
  'upgrade',
  'connection',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'sec-websocket-accept',
]);

/**
 * Parses a WebSocket URL (RFC 6455 §3): `ws:` or `wss:`, no fragment. (A caller wanting the
 * WHATWG mapping of `http:`/`https:` to `ws:`/`wss:` applies it first.)
 *
 * @throws {SyntaxError} when the URL does not parse, has another scheme or has a fragment
 *   (even an empty one).
 * @example
 * ```ts
 * parseWebSocketUrl('wss://example.com/chat').port; // '' (the default, 443)
 * parseWebSocketUrl('wss://example.com/#top');      // throws SyntaxError
 * ```
 */
export function parseWebSocketUrl(url: string | URL): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SyntaxError(`Invalid URL: ${JSON.stringify(String(url))}`);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new SyntaxError(`A WebSocket URL must use ws: or wss:, not ${parsed.protocol} (RFC 6455 §3)`);
  }
  // `hash` is '' for an empty fragment too; `href` still ends in '#' then.
  if (parsed.hash !== '' || parsed.href.endsWith('#')) {
    throw new SyntaxError('A WebSocket URL must not have a fragment; escape "#" as %23 (RFC 6455 §3)');
  }
  return parsed;
}

/**
 * Builds the client's upgrade request (RFC 6455 §4.1): `GET <path+query> HTTP/1.1`, `Host`
 * (port omitted when default), `Upgrade: websocket`, `Connection: Upgrade`,
 * `Sec-WebSocket-Key`, `Sec-WebSocket-Version: 13`, then `Origin`, `Sec-WebSocket-Protocol`,
 * `Sec-WebSocket-Extensions` when given, `Authorization: Basic …` when the URL has user info
 * and no extra field is `Authorization`, then the extra fields. Pass the result to
 * {@link validateServerResponse} with the response.
 *
 * @throws {SyntaxError} for a URL {@link parseWebSocketUrl} refuses.
 * @throws {TypeError} for invalid or repeated subprotocols, invalid extensions, an invalid
 *   `key`, or an extra field that is invalid (CR/LF), sets a handshake field, or repeats
 *   `Host` or the `origin` option.
 * @example
 * ```ts
 * const client = buildClientRequest({ url: 'ws://example.com/chat', protocols: ['chat'] });
 * socket.write(new TextEncoder().encode(client.request));
 * // … parse the response head, then:
 * const { protocol } = await validateServerResponse(responseHead, client);
 * ```
 */
export function buildClientRequest(options: ClientRequestOptions): ClientRequest {
  const url = parseWebSocketUrl(options.url);
  const secure = url.protocol === 'wss:';

  const protocols = options.protocols === undefined ? [] : typeof options.protocols === 'string' ? [options.protocols] : [...options.protocols];
  checkProtocols(protocols);

  let extensions: ExtensionOffer[];
  if (typeof options.extensions === 'string') {
    try {
      extensions = parseExtensionHeader(options.extensions);
    } catch (error) {
      throw new TypeError(`Invalid extensions: ${(error as Error).message}`);
    }
  } else {
    extensions = (options.extensions ?? []).map(({ name, params }) => ({ name, params: params.map(([p, v]): [string, string | true] => [p, v]) }));
  }

  const key = options.key ?? generateKey();
  if (!isValidKey(key)) throw new TypeError('key must be the base64 of 16 bytes (RFC 6455 §4.1 item 7)');

  // RFC 6455 §4.1 item 4: Host is host[:port], the port omitted when it is the default.
  // WHATWG URL already drops a default port from `host` for ws: (80) and wss: (443).
  let host = url.host;
  const extra: Array<[string, string]> = [];
  let hostOverrides = 0;
  let authorizationGiven = false;
  for (const [name, value] of headerFieldEntries(options.headers)) {
    const lower = name.toLowerCase();
    if (HANDSHAKE_REQUEST_FIELDS.has(lower)) throw new TypeError(`Header "${name}" is set by the handshake itself`);
    if (lower === 'origin' && options.origin !== undefined) throw new TypeError('Origin is given both as an option and a header');
    if (lower === 'authorization') authorizationGiven = true;
    if (lower === 'host') {
      if (++hostOverrides > 1) throw new TypeError('Host is given twice');
      host = value;
    } else {
      extra.push([name, value]);
    }
  }

  const fields: Array<[string, string]> = [
    ['Host', host],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', key],
    ['Sec-WebSocket-Version', WEBSOCKET_VERSION],
  ];
  if (options.origin !== undefined) fields.push(['Origin', options.origin]);
  if (protocols.length > 0) fields.push(['Sec-WebSocket-Protocol', protocols.join(', ')]);
  if (extensions.length > 0) fields.push(['Sec-WebSocket-Extensions', serializeExtensionHeader(extensions)]);
  // Fetch ("HTTP-network-or-cache fetch"): a URL with credentials (`ws://user:pass@host/`)
  // sends them as Basic `Authorization`, unless the request already has that field.
  const credentials = authorizationGiven ? undefined : basicCredentials(url);
  if (credentials !== undefined) fields.push(['Authorization', credentials]);

  // RFC 6455 §4.1 item 2 (/resource name/, §3): path, then "?" and query when present.
  const request = serializeRequestHead({ method: 'GET', target: url.pathname + url.search, headers: [...fields, ...extra] });
  return {
    request,
    key,
    protocols,
    extensions,
    url,
    secure,
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
  };
}

/**
 * Validates the server's answer to an upgrade request (RFC 6455 §4.1, client requirements
 * on the response): status 101; `Upgrade: websocket` (case-insensitive); `Connection` lists
 * `Upgrade`; `Sec-WebSocket-Accept` equals {@link acceptKey} of the key sent; a
 * `Sec-WebSocket-Protocol` only if it is one of those offered; `Sec-WebSocket-Extensions`
 * only with extensions offered, each once. Any failure must fail the WebSocket connection.
 *
 * @param expected What was offered; a {@link ClientRequest} fits as is.
 * @throws {HandshakeError} `BAD_STATUS` (its `status` is the status received),
 *   `BAD_UPGRADE`, `BAD_CONNECTION`, `BAD_ACCEPT`, `BAD_PROTOCOL`, `BAD_EXTENSION`.
 * @example
 * ```ts
 * const client = buildClientRequest({ url: 'ws://example.com/', protocols: ['chat'] });
 * const { protocol, extensions } = await validateServerResponse(responseHead, client);
 * ```
 */
export async function validateServerResponse(response: UpgradeResponse, expected: ExpectedUpgrade): Promise<ClientHandshakeResult> {
  return checkServerResponse(response, expected);
}

/**
 * {@link validateServerResponse}, synchronously: with the given SHA-1, else the codec's own.
 * @throws {HandshakeError} as {@link validateServerResponse}
 * @example
 * ```ts
 * const { protocol } = checkServerResponse(responseHead, client);
 * ```
 */
export function checkServerResponse(response: UpgradeResponse, expected: ExpectedUpgrade, sha1?: SyncSha1): ClientHandshakeResult {
  const get = (name: string): string | undefined => response.headers.get(name) ?? undefined;

  // §4.1: "If the status code received from the server is not 101, the client handles the
  // response per HTTP procedures": for us, the handshake has failed.
  if (response.status !== 101) {
    throw new HandshakeError('BAD_STATUS', `The server answered ${response.status}, not 101 (RFC 6455 §4.1)`, response.status);
  }
  // §4.1 response item 2: the value itself (not a list) must be "websocket".
  if (get('upgrade')?.toLowerCase() !== 'websocket') {
    throw new HandshakeError('BAD_UPGRADE', 'The response Upgrade field must be "websocket" (RFC 6455 §4.1)');
  }
  // §4.1 response item 3.
  if (!listContainsToken(get('connection') ?? '', 'upgrade')) {
    throw new HandshakeError('BAD_CONNECTION', 'The response Connection field must list "Upgrade" (RFC 6455 §4.1)');
  }
  // §4.1 response item 4: exact match; a repeated field arrives joined and fails too.
  if (get('sec-websocket-accept') !== acceptKeyOf(expected.key, sha1)) {
    throw new HandshakeError('BAD_ACCEPT', 'Sec-WebSocket-Accept does not match the key sent (RFC 6455 §4.1)');
  }

  // §4.1 response item 6: a subprotocol "that was not present in the client's handshake"
  // (compared exactly) fails; so does one sent when none was offered, or an empty value.
  const protocol = get('sec-websocket-protocol');
  if (protocol !== undefined && !(expected.protocols ?? []).includes(protocol)) {
    throw new HandshakeError('BAD_PROTOCOL', `The server selected subprotocol ${JSON.stringify(protocol)}, which was not offered (RFC 6455 §4.1)`);
  }

  // §4.1 response item 5: an extension "that was not present in the client's handshake" fails.
  const extensionField = get('sec-websocket-extensions');
  const extensions = extensionField === undefined ? [] : parseExtensionHeader(extensionField);
  const offered = expected.extensions ?? [];
  const seen = new Set<string>();
  for (const { name } of extensions) {
    if (!offered.some((offer) => offer.name === name)) {
      throw new HandshakeError('BAD_EXTENSION', `The server accepted extension "${name}", which was not offered (RFC 6455 §4.1)`);
    }
    if (seen.has(name)) throw new HandshakeError('BAD_EXTENSION', `The server accepted extension "${name}" twice`);
    seen.add(name);
  }

  return { protocol: protocol ?? '', extensions };
}
