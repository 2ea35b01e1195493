/**
 * The server side of the opening handshake as a sans-I/O decision (RFC 6455 §4.2): bytes
 * of a request head go in, a decision comes out — read more, refuse (the response bytes and
 * a stable code), or accept (the 101 bytes and what was negotiated, all a connection needs).
 * Every driver (the server engine, the duplex helpers, Node's `attach`) only moves the
 * bytes; the server's policy (path, `authorize`, …) stays with the driver and feeds its
 * answers in: the sync hooks (`allowedOrigins`, `handleProtocols`, `negotiateExtensions`)
 * to {@link ServerHandshake.decide}, a hook's own refusal through
 * {@link ServerHandshake.refuse}.
 * @module
 */
import type { SyncSha1 } from './accept_key.ts';
import { HandshakeError } from './errors.ts';
import { serializeExtensionHeader } from './header_grammar.ts';
import { HttpHeadParser, type HeaderFieldsInit, type HttpHeadOptions, type RequestHead } from './http_head.ts';
import { buildRejection, serverResponse, validateUpgradeRequest, type NegotiatedUpgrade, type ServerHandshakeOptions, type UpgradeRequest } from './server_handshake.ts';
import { encodeUtf8 } from './utf8.ts';

/** The head is not complete yet: feed the next chunk. */
export interface NeedMoreBytes {
  readonly kind: 'need-more';
}

/** A complete request head, ready for the driver's policy and {@link ServerHandshake.decide}. */
export interface RequestRead {
  readonly kind: 'request';
  /** The parsed head. */
  readonly head: RequestHead;
  /** Bytes of the last chunk after the head (early frames, a body): the connection's or the body's. */
  readonly rest: Uint8Array;
}

/** The handshake is refused: write `response` (when not empty), then end the socket. */
export interface HandshakeRefusal {
  readonly kind: 'refuse';
  /** The status answered (400, 403, 426, 431, 500, a hook's own …). */
  readonly status: number;
  /**
   * A stable reason: a `HandshakeError` code (`MALFORMED_HEAD`, `HEAD_TOO_LARGE`,
   * `BAD_METHOD`, `BAD_HTTP_VERSION`, `MISSING_HOST`, `BAD_UPGRADE`, `BAD_CONNECTION`,
   * `BAD_VERSION`, `BAD_KEY`, `BAD_PROTOCOL`, `BAD_EXTENSION`, `FORBIDDEN_ORIGIN`),
   * `HOOK_FAILED` (a hook threw or answered what cannot be sent), or the driver's own code
   * given to {@link ServerHandshake.refuse}.
   */
  readonly code: string;
  /** The complete HTTP error response. */
  readonly response: Uint8Array;
  /** The error behind it, if any. */
  readonly error?: unknown;
}

/** The handshake is accepted: write `response`, then the socket speaks frames. */
export interface ServerAcceptance extends NegotiatedUpgrade {
  readonly kind: 'accept';
  /** The complete `101 Switching Protocols` head. */
  readonly response: Uint8Array;
  /** The accepted extensions as the `Sec-WebSocket-Extensions` value sent, `''` for none (the connection's `extensions`). */
  readonly extensionHeader: string;
}

/** What {@link ServerHandshake.receive} gives back. */
export type ServerHandshakeStep = NeedMoreBytes | RequestRead | HandshakeRefusal;

/** What {@link ServerHandshake.decide} gives back. */
export type ServerDecision = ServerAcceptance | HandshakeRefusal;

/** Options of a {@link ServerHandshake}: the head's limits and the accept key's hash. */
export interface ServerHandshakeInit extends HttpHeadOptions {
  /** A synchronous SHA-1 for the accept key (Node's `createHash`); default the codec's own. */
  sha1?: SyncSha1;
}

const NEED_MORE: NeedMoreBytes = Object.freeze({ kind: 'need-more' });

/** What a refusal may carry besides its status and code. */
export interface RefusalInit {
  /** Extra fields of the answer, e.g. `{ 'WWW-Authenticate': 'Bearer' }`. */
  headers?: HeaderFieldsInit;
  /** A plain-text body. */
  body?: string;
  /** The error behind the refusal. */
  error?: unknown;
}

/**
 * One server-side opening handshake: feed it bytes with {@link receive} until the head is
 * read, apply the server's policy to the head, then {@link decide} (RFC 6455 checks,
 * negotiation, the 101) or {@link refuse}. Synchronous throughout: the accept key is hashed
 * with a synchronous SHA-1.
 *
 * @example
 * ```ts
 * const handshake = new ServerHandshake({ maxHeadSize: 8192 });
 * const step = handshake.receive(chunk);
 * if (step.kind === 'need-more') return; // wait for the next chunk
 * if (step.kind === 'refuse') return socket.end(step.response);
 * const decision = handshake.decide(step.head, { handleProtocols: (offered) => offered[0] });
 * socket.write(decision.response);
 * if (decision.kind === 'accept') startConnection(decision.protocol, decision.extensionHeader, step.rest);
 * ```
 */
export class ServerHandshake {
  readonly #parser: HttpHeadParser<'request'>;
  readonly #sha1: SyncSha1 | undefined;
  #done = false;

  /** @throws RangeError for invalid head limits */
  constructor(init: ServerHandshakeInit = {}) {
    this.#parser = new HttpHeadParser('request', init);
    this.#sha1 = init.sha1;
  }

  /**
   * Feeds the next chunk of the request. Once it gave a `request` or a `refuse`, later
   * chunks are not the handshake's.
   * @returns `need-more`, the `request` read, or a `refuse` for a malformed head (400,
   *   505) or one too large (431)
   * @throws TypeError when called after the head was read or refused
   */
  receive(chunk: Uint8Array): ServerHandshakeStep {
    if (this.#done) throw new TypeError('ServerHandshake.receive: the request head was already read');
    let result;
    try {
      result = this.#parser.push(chunk);
    } catch (error) {
      this.#done = true;
      return ServerHandshake.refusalOf(error);
    }
    if (result === null) return NEED_MORE;
    this.#done = true;
    return { kind: 'request', head: result.head, rest: result.rest };
  }

  /**
   * Decides an upgrade request: the RFC 6455 §4.2.1 checks, the origin, subprotocol and
   * extension answers of the server's hooks, then the 101 (RFC 6455 §4.2.2). Never throws:
   * a `HandshakeError` is refused with its status and code, a hook that throws (or
   * selects what was not offered) with 500 `HOOK_FAILED`, as are extra `headers` that
   * cannot be sent.
   * @param request a head from {@link receive}, or any runtime's request adapted to {@link UpgradeRequest}
   * @param answers the server's hooks and the 101's extra fields
   */
  decide(request: UpgradeRequest, answers: ServerHandshakeOptions = {}): ServerDecision {
    let negotiated: NegotiatedUpgrade;
    let head: string;
    try {
      negotiated = validateUpgradeRequest(request, answers);
      head = serverResponse({ key: negotiated.key, protocol: negotiated.protocol, extensions: negotiated.extensions, headers: answers.headers }, this.#sha1);
    } catch (error) {
      return ServerHandshake.refusalOf(error);
    }
    return {
      kind: 'accept',
      ...negotiated,
      response: encodeUtf8(head),
      extensionHeader: negotiated.extensions.length > 0 ? serializeExtensionHeader(negotiated.extensions) : '',
    };
  }

  /**
   * A refusal decided by the server's policy (`authorize`, the path, shutdown): an HTTP
   * error response with `status`, reported as `code`. A status outside 300–599 or a field
   * that cannot be sent (CR/LF, or one the refusal writes itself) is refused with 500
   * `HOOK_FAILED` instead, so that the code tells what went on the wire.
   * @example
   * ```ts
   * socket.end(ServerHandshake.refuse(401, 'REJECTED', { headers: { 'WWW-Authenticate': 'Bearer' } }).response);
   * ```
   */
  static refuse(status: number, code: string, init: RefusalInit = {}): HandshakeRefusal {
    try {
      return { kind: 'refuse', status, code, response: encodeUtf8(buildRejection(status, init.headers, init.body)), error: init.error };
    } catch (error) {
      return { kind: 'refuse', status: 500, code: 'HOOK_FAILED', response: encodeUtf8(buildRejection(500)), error };
    }
  }

  /**
   * The refusal for an error thrown while deciding: a {@link HandshakeError} (of the head
   * parser, the RFC checks, a request's URL) answers with its status, code, headers and
   * message; anything else (a hook's own error) is 500 `HOOK_FAILED`.
   * @example
   * ```ts
   * try { url = requestUrl(head); } catch (error) { return ServerHandshake.refusalOf(error); }
   * ```
   */
  static refusalOf(error: unknown): HandshakeRefusal {
    if (error instanceof HandshakeError) return ServerHandshake.refuse(error.status, error.code, { headers: error.headers, body: error.message, error });
    return ServerHandshake.refuse(500, 'HOOK_FAILED', { error });
  }
}
