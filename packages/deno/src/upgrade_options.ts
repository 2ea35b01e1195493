/**
 * What a server-side upgrade can be told: the codec's options (those of `@wsflow/node`),
 * with a WHATWG `Request` (as `Deno.serve` gives) where Node passes its `IncomingMessage`,
 * plus the limit on the request head this shim reads itself.
 * @module
 */
import type * as codec from '@wsflow/codec';

export type { AuthorizeResult, UpgradeRejection } from '@wsflow/codec';

/** What the {@link UpgradeOptions.authorize} hook sees of an upgrade request (`request` with an `http:`/`https:` URL). */
export type AuthorizeRequest = codec.AuthorizeRequest<Request>;

/**
 * Why a server refused or dropped an upgrade, as passed to {@link UpgradeOptions.onReject};
 * `request` is `undefined` when its head could not be read. A plain HTTP request answered
 * 426 (no `fallback`) has the code `NOT_UPGRADE`.
 */
export type RejectionInfo = codec.RejectionInfo<Request | undefined>;

/**
 * Options of a server-side upgrade. An upgrade for another `path` goes to the `fallback`
 * when there is one, else is refused with 400.
 *
 * @example
 * ```ts
 * const options: UpgradeOptions = {
 *   path: '/chat',
 *   handleProtocols: (offered) => (offered.includes('chat.v2') ? 'chat.v2' : null),
 *   authorize: async ({ cookies }) => ((await sessions.has(cookies.sid)) ? undefined : { status: 401 }),
 *   maxHeadSize: 8 * 1024,
 * };
 * ```
 */
export interface UpgradeOptions extends codec.UpgradeOptions<Request, Request | undefined> {
  /** The largest request head accepted, in bytes (431 above). Default 16 KiB. */
  maxHeadSize?: number;
}
