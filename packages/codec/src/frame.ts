/**
 * The frame as a value (RFC 6455 §5.2), for the frame-level streams and tests.
 * @module
 */

/**
 * One WebSocket frame with its payload unmasked. `rsv1`–`rsv3` are the reserved bits
 * that extensions may give a meaning to (RFC 6455 §5.2, RFC 7692 §6).
 */
export interface Frame {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  /** The 4-bit opcode; see {@link Opcode}. */
  opcode: number;
  payload: Uint8Array;
}

/** RSV bit masks within the first header octet. */
export const Rsv = {
  Rsv1: 0x40,
  Rsv2: 0x20,
  Rsv3: 0x10,
} as const;
/** One reserved bit's mask. */
export type Rsv = (typeof Rsv)[keyof typeof Rsv];

/** Makes a {@link Frame} with FIN set and no reserved bits, the common case. */
export function makeFrame(opcode: number, payload: Uint8Array, fin = true): Frame {
  return { fin, rsv1: false, rsv2: false, rsv3: false, opcode, payload };
}
