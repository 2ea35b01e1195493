/**
 * What a server-side upgrade can be told (path, subprotocols, origins, an async
 * authorization hook, limits and timers), shared by `handleUpgrade`, `attach` and `serve`:
 * the codec's options, with Node's `IncomingMessage` as the request the hooks see.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type * as codec from '@wsflow/codec';

export type { AuthorizeResult, UpgradeRejection } from '@wsflow/codec';

/** What the {@link UpgradeOptions.authorize} hook sees of an upgrade request; `request` is Node's own. */
export type AuthorizeRequest = codec.AuthorizeRequest<IncomingMessage>;

/** Why a server refused or dropped an upgrade, as passed to {@link UpgradeOptions.onReject}. */
export type RejectionInfo = codec.RejectionInfo<IncomingMessage>;

/**
 * Options of a server-side upgrade. A request for another `path` is refused with 400 by
 * `handleUpgrade`, left to other `upgrade` listeners by `attach`.
 *
 * @example
 * ```ts
 * const options: UpgradeOptions = {
 *   path: '/chat',
 *   handleProtocols: (offered) => (offered.includes('chat.v2') ? 'chat.v2' : null),
 *   allowedOrigins: ['https://app.example.com'],
 *   authorize: async ({ cookies }) => ((await sessions.has(cookies.sid)) ? undefined : { status: 401 }),
 *   maxMessage: 1 << 20,
 *   heartbeat: { interval: 30_000 },
 * };
 * ```
 */
export type UpgradeOptions = codec.UpgradeOptions<IncomingMessage>;
