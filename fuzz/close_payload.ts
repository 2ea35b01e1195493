/**
 * Fuzz target `close_payload`: the Close frame payload parser (RFC 6455 §5.5.1, §7.4),
 * compared with the checks `ws`'s receiver makes (`isValidStatusCode`, `isValidUTF8`).
 *
 * The input is the payload. Oracles:
 *  - only `ProtocolError` leaves the parser, with 1002 for a bad length or code and 1007 for
 *    a reason that is not UTF-8;
 *  - it accepts exactly what `ws` accepts, and fails with the close code `ws` would;
 *  - what it accepts serializes back to the same octets (a reason that fits a control frame).
 * @module
 */
import { CloseCode, MAX_CLOSE_REASON } from '../packages/codec/src/constants.ts';
import { parseClosePayload, serializeClosePayload } from '../packages/codec/src/close_payload.ts';
import { ProtocolError } from '../packages/codec/src/errors.ts';
import { FuzzInput } from './support/input.ts';
import { check, documented, hex } from './support/oracle.ts';
import { wsValidation } from './support/ws.ts';

/** The close code `ws`'s receiver fails the connection with for this payload, or 0 if it takes it. */
function wsVerdict(payload: Uint8Array): number {
  if (payload.length === 0) return 0;
  if (payload.length === 1) return CloseCode.ProtocolError;
  const code = (payload[0] << 8) | payload[1];
  if (!wsValidation.isValidStatusCode(code)) return CloseCode.ProtocolError;
  return wsValidation.isValidUTF8(payload.subarray(2)) ? 0 : CloseCode.InvalidPayload;
}

export function fuzz(data: Uint8Array): void {
  const payload = new FuzzInput(data).rest();
  const ours = documented(() => parseClosePayload(payload), [ProtocolError]);
  const expected = wsVerdict(payload);
  if ('error' in ours) {
    const { closeCode } = ours.error as ProtocolError;
    check(closeCode === expected, `close payload ${hex(payload)}: ours fails with ${closeCode}, ws ${expected || 'accepts it'}`);
    return;
  }
  check(expected === 0, `close payload ${hex(payload)}: ours accepts, ws fails with ${expected}`);
  const { code, reason } = ours.value;
  if (payload.length === 0) {
    check(code === CloseCode.NoStatusReceived && reason === '', 'an empty close payload is not 1005 without reason');
    return;
  }
  if (payload.length - 2 > MAX_CLOSE_REASON) return;
  check(hex(serializeClosePayload(code, reason)) === hex(payload), `close payload ${hex(payload)} does not serialize back`);
}
