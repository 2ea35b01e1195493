/**
 * The client side of the opening handshake as a sans-I/O decision (RFC 6455 §4.1): the
 * request bytes to write, then bytes of the response go in and a decision comes out — read
 * more, refuse (a stable code: the connection must fail), or accept (the subprotocol and
 * extensions the server agreed to, with the permessage-deflate agreement, all a connection
 * needs). The client engine and the duplex helpers only move the bytes.
 * @module
 */
import type { SyncSha1 } from './accept_key.ts';
import { buildClientRequest, checkServerResponse, type ClientRequest, type ClientRequestOptions } from './client_handshake.ts';
import { HandshakeError, type HandshakeErrorCode } from './errors.ts';
import { serializeExtensionHeader, type ExtensionOffer } from './header_grammar.ts';
import { HttpHeadParser, type HttpHeadOptions, type ResponseHead } from './http_head.ts';
import { agreementFromResponse, PERMESSAGE_DEFLATE, type DeflateAgreement } from './permessage_deflate_params.ts';
import type { NeedMoreBytes } from './server_handshake_decision.ts';
import { encodeUtf8 } from './utf8.ts';

/** The server's answer is accepted: the connection may speak frames. */
export interface ClientAcceptance {
  readonly kind: 'accept';
  /** The response head. */
  readonly head: ResponseHead;
  /** Bytes of the last chunk after the head: the server's first frames. */
  readonly rest: Uint8Array;
  /** The subprotocol the server selected, `''` for none. */
  readonly protocol: string;
  /** The extensions the server accepted, in its order. */
  readonly extensions: ExtensionOffer[];
  /** The server's `Sec-WebSocket-Extensions` value, `''` for none (the connection's `extensions`). */
  readonly extensionHeader: string;
  /** The permessage-deflate agreement (RFC 7692 §7.1), null when the server accepted none. */
  readonly deflate: DeflateAgreement | null;
}

/** The server's answer fails the handshake (RFC 6455 §4.1: "_Fail the WebSocket Connection_"). */
export interface ClientRefusal {
  readonly kind: 'refuse';
  /**
   * A stable reason: `BAD_STATUS` (not 101), `BAD_UPGRADE`, `BAD_CONNECTION`, `BAD_ACCEPT`,
   * `BAD_PROTOCOL` (a subprotocol not offered), `BAD_EXTENSION` (an extension not offered,
   * twice, or invalid parameters), `MALFORMED_HEAD`, `HEAD_TOO_LARGE`.
   */
  readonly code: HandshakeErrorCode;
  /** The status the server answered (0 when the head could not be read). */
  readonly status: number;
  /** The error to fail the connection with. */
  readonly error: HandshakeError;
}

/** What {@link ClientHandshake.receive} gives back. */
export type ClientHandshakeStep = NeedMoreBytes | ClientAcceptance | ClientRefusal;

/** Options of a {@link ClientHandshake}: the request, the response head's limits, the hash. */
export interface ClientHandshakeInit extends ClientRequestOptions, HttpHeadOptions {
  /** A synchronous SHA-1 to check the accept key with; default the codec's own. */
  sha1?: SyncSha1;
}

const NEED_MORE: NeedMoreBytes = Object.freeze({ kind: 'need-more' });

/**
 * One client-side opening handshake: write {@link bytes}, then feed the response to
 * {@link receive} until it accepts or refuses.
 *
 * @throws SyntaxError (constructor) for a bad URL, TypeError for bad protocols, extensions or headers
 * @example
 * ```ts
 * const handshake = new ClientHandshake({ url: 'ws://example.com/chat', protocols: ['chat'] });
 * socket.write(handshake.bytes);
 * socket.onData = (chunk) => {
 *   const step = handshake.receive(chunk);
 *   if (step.kind === 'refuse') socket.destroy(step.error);
 *   else if (step.kind === 'accept') startConnection(step.protocol, step.extensionHeader, step.rest);
 * };
 * ```
 */
export class ClientHandshake {
  /** The request built (URL, host and port to dial, what was offered). */
  readonly request: ClientRequest;
  /** The request head to write. */
  readonly bytes: Uint8Array;
  readonly #parser: HttpHeadParser<'response'>;
  readonly #sha1: SyncSha1 | undefined;
  #done = false;

  constructor(init: ClientHandshakeInit) {
    this.request = buildClientRequest(init);
    this.bytes = encodeUtf8(this.request.request);
    this.#parser = new HttpHeadParser('response', init);
    this.#sha1 = init.sha1;
  }

  /**
   * Feeds the next chunk of the response.
   * @throws TypeError when called after a decision
   */
  receive(chunk: Uint8Array): ClientHandshakeStep {
    if (this.#done) throw new TypeError('ClientHandshake.receive: the response was already decided');
    let read;
    try {
      read = this.#parser.push(chunk);
    } catch (error) {
      this.#done = true;
      return refusalOf(error as HandshakeError, 0);
    }
    if (read === null) return NEED_MORE;
    this.#done = true;
    const { head, rest } = read;
    try {
      const { protocol, extensions } = checkServerResponse(head, this.request, this.#sha1);
      return { kind: 'accept', head, rest, protocol, extensions, extensionHeader: extensions.length > 0 ? serializeExtensionHeader(extensions) : '', deflate: this.#deflate(extensions) };
    } catch (error) {
      if (!(error instanceof HandshakeError)) throw error;
      return refusalOf(error, head.status);
    }
  }

  /** RFC 7692 §5: the permessage-deflate parameters the server answered must fit the offer. */
  #deflate(accepted: readonly ExtensionOffer[]): DeflateAgreement | null {
    const answer = accepted.find((extension) => extension.name === PERMESSAGE_DEFLATE);
    if (answer === undefined) return null;
    const offer = this.request.extensions.find((extension) => extension.name === PERMESSAGE_DEFLATE)!;
    return agreementFromResponse(answer, offer);
  }
}

function refusalOf(error: HandshakeError, status: number): ClientRefusal {
  return { kind: 'refuse', code: error.code, status, error };
}
