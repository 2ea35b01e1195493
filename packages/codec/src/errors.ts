/**
 * The codec's error types. Every protocol failure carries the close code that
 * RFC 6455 §7.4.1 assigns to it, so that one place can map errors to Close frames.
 * @module
 */
import { CloseCode } from './constants.ts';

/** Stable machine-readable identifiers for protocol failures. */
export type ProtocolErrorCode =
  | 'UNMASKED_FRAME'
  | 'MASKED_FRAME'
  | 'RESERVED_OPCODE'
  | 'RESERVED_BITS'
  | 'NON_MINIMAL_LENGTH'
  | 'LENGTH_TOO_LARGE'
  | 'FRAGMENTED_CONTROL'
  | 'CONTROL_TOO_LARGE'
  | 'UNEXPECTED_CONTINUATION'
  | 'EXPECTED_CONTINUATION'
  | 'INVALID_UTF8'
  | 'INVALID_CLOSE_PAYLOAD'
  | 'INVALID_CLOSE_CODE'
  | 'PAYLOAD_TOO_LARGE'
  | 'MESSAGE_TOO_LARGE'
  | 'TOO_MANY_FRAGMENTS'
  | 'DATA_AFTER_CLOSE'
  | 'UNEXPECTED_EOF'
  | 'EXTENSION_ERROR'
  | 'INVALID_COMPRESSED_DATA'
  | 'INTERNAL_ERROR';

/**
 * A violation of RFC 6455 by the peer (or a limit it exceeded). `closeCode` is the code
 * the connection must be closed with; `code` is a stable string for programs.
 *
 * @example
 * ```ts
 * try { parser.push(bytes); } catch (e) {
 *   if (e instanceof ProtocolError) console.log(e.closeCode, e.code); // 1002 'UNMASKED_FRAME'
 * }
 * ```
 */
export class ProtocolError extends Error {
  /** The close code to fail the connection with: 1002, 1007, 1009 or 1010. */
  readonly closeCode: number;
  /** A stable identifier of the failure. */
  readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string, closeCode: number = CloseCode.ProtocolError) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
    this.closeCode = closeCode;
  }
}

/** Stable identifiers for opening-handshake failures (RFC 6455 §4). */
export type HandshakeErrorCode =
  | 'HEAD_TOO_LARGE'
  | 'MALFORMED_HEAD'
  | 'BAD_METHOD'
  | 'BAD_HTTP_VERSION'
  | 'MISSING_HOST'
  | 'BAD_HOST'
  | 'BAD_TARGET'
  | 'BAD_UPGRADE'
  | 'BAD_CONNECTION'
  | 'BAD_VERSION'
  | 'BAD_KEY'
  | 'BAD_STATUS'
  | 'BAD_ACCEPT'
  | 'BAD_PROTOCOL'
  | 'BAD_EXTENSION'
  | 'FORBIDDEN_ORIGIN';

/**
 * A failed opening handshake. On the server side `status` is the HTTP status to answer
 * with (400, 403, 426, 431) and `headers` any headers that answer must carry
 * (a 426 carries `Sec-WebSocket-Version: 13`, RFC 6455 §4.4).
 */
export class HandshakeError extends Error {
  /** A stable identifier of the failure. */
  readonly code: HandshakeErrorCode;
  /** The HTTP status a server answers with. */
  readonly status: number;
  /** Extra response headers a server sends with the refusal. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: HandshakeErrorCode, message: string, status = 400, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'HandshakeError';
    this.code = code;
    this.status = status;
    this.headers = headers;
  }
}
