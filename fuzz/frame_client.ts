/**
 * Fuzz target `frame_client`: a client's `WebSocketProtocol` (unmasked frames required) fed
 * arbitrary bytes. Oracles: see `support/protocol_run.ts`.
 * @module
 */
import { fuzzProtocol } from './support/protocol_run.ts';

export function fuzz(data: Uint8Array): void {
  fuzzProtocol('client', data);
}
