/**
 * Fuzz target `frame_server`: a server's `WebSocketProtocol` (masked frames required) fed
 * arbitrary bytes. Oracles: see `support/protocol_run.ts`.
 * @module
 */
import { fuzzProtocol } from './support/protocol_run.ts';

export function fuzz(data: Uint8Array): void {
  fuzzProtocol('server', data);
}
