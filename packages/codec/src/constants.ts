/**
 * Wire constants of RFC 6455, each as an `as const` object with its union type.
 * @module
 */

/** The GUID appended to `Sec-WebSocket-Key` before hashing (RFC 6455 §1.3, §4.2.2). */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11' as const;

/** Frame opcodes (RFC 6455 §5.2, §11.8). 0x3–0x7 and 0xB–0xF are reserved. */
export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;
/** A defined (non-reserved) opcode. */
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** Whether an opcode is a control opcode: its most significant bit is set (RFC 6455 §5.5). */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

/** Whether an opcode is one RFC 6455 defines (§5.2); the rest are reserved. */
export function isKnownOpcode(opcode: number): opcode is Opcode {
  return Number.isInteger(opcode) && ((opcode >= 0 && opcode <= 0x2) || (opcode >= 0x8 && opcode <= 0xa));
}

/** Status codes for the Close frame (RFC 6455 §7.4.1, IANA registry §11.7). */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  /** Reserved; never sent on the wire. */
  NoStatusReceived: 1005,
  /** Reserved; never sent on the wire. */
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
  BadGateway: 1014,
  /** Reserved; never sent on the wire. */
  TlsHandshake: 1015,
} as const;
/** A close code named by RFC 6455 or the IANA registry. */
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Which end of the connection a codec instance plays (RFC 6455 §5.1 masking rules depend on it). */
export type Role = 'client' | 'server';

/** The largest payload a control frame may carry (RFC 6455 §5.5). */
export const MAX_CONTROL_PAYLOAD = 125;

/** The largest close reason in UTF-8 bytes: 125 minus the 2-byte code (RFC 6455 §5.5.1). */
export const MAX_CLOSE_REASON = 123;
