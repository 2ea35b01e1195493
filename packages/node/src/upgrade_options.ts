/**
 * The upgrade options of Node's extras (`attach`, `handleUpgrade`, `WebSocketEndpoint`),
 * whose hooks get Node's own `IncomingMessage` from the host `node:http` server. `serve`
 * takes the shared options, with a WHATWG `Request`, as on every runtime.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { AuthorizeRequestOf, RejectionInfoOf, UpgradeOptionsOf } from '@wsflow/engine';

/** What the upgrade hook of `attach`/`handleUpgrade` sees of a request. */
export type NodeAuthorizeRequest = AuthorizeRequestOf<IncomingMessage>;

/** Why `attach`/`handleUpgrade` refused or dropped an upgrade. */
export type NodeRejectionInfo = RejectionInfoOf<IncomingMessage>;

/** The upgrade options of `attach`, `handleUpgrade` and `WebSocketEndpoint`. */
export type UpgradeOptions = UpgradeOptionsOf<IncomingMessage>;
