/**
 * The `perMessageDeflate` setting of the runtime shims, and what they do with it in each
 * role: the server picks among the client's offers, the client offers (its check of the
 * answer, RFC 7692 §5, is the `ClientHandshake` decision's), and both make the
 * connection's {@link PerMessageDeflate}.
 * @module
 */
import type { Role } from './constants.ts';
import type { DeflateEngine } from './deflate_engine.ts';
import type { ExtensionOffer } from './header_grammar.ts';
import { checkDeflateSendOptions, PerMessageDeflate, type PerMessageDeflateOptions } from './per_message_deflate.ts';
import {
  acceptDeflateOffer,
  buildDeflateOffer,
  checkDeflateNegotiationOptions,
  deflateAgreementOf,
  type DeflateAgreement,
} from './permessage_deflate_params.ts';

/** The `perMessageDeflate` setting: off (`false`, the default), on with defaults (`true`), or tuned. */
export type PerMessageDeflateSetting = boolean | PerMessageDeflateOptions | undefined;

/** permessage-deflate settings with an engine, ready to negotiate. */
export interface ResolvedDeflate {
  readonly options: PerMessageDeflateOptions;
  readonly engine: DeflateEngine;
}

/**
 * Resolves a `perMessageDeflate` setting against the shim's default engine.
 * @returns null when compression is off, or on without any engine to run it
 * @throws RangeError/TypeError for options out of range
 * @example
 * ```ts
 * resolveDeflate(true, zlibEngine); // { options: {}, engine: zlibEngine }
 * resolveDeflate(false, zlibEngine); // null
 * ```
 */
export function resolveDeflate(setting: PerMessageDeflateSetting, defaultEngine: DeflateEngine | undefined): ResolvedDeflate | null {
  if (setting === undefined || setting === false) return null;
  if (setting === true) return defaultEngine === undefined ? null : { options: {}, engine: defaultEngine };
  if (typeof setting !== 'object' || setting === null) {
    throw new TypeError('perMessageDeflate must be a boolean or an options object');
  }
  checkDeflateNegotiationOptions(setting);
  checkDeflateSendOptions(setting);
  if (setting.sharedCompressor !== undefined && typeof setting.sharedCompressor !== 'boolean') {
    throw new TypeError('perMessageDeflate.sharedCompressor must be a boolean');
  }
  const engine = setting.engine ?? defaultEngine;
  return engine === undefined ? null : { options: setting, engine };
}

/**
 * The server's `negotiateExtensions` hook: accepts the first acceptable permessage-deflate
 * offer (RFC 7692 §5.1), declining invalid ones. Other extensions are not accepted.
 * @example
 * ```ts
 * validateUpgradeRequest(head, { negotiateExtensions: serverDeflateNegotiator(resolved) });
 * ```
 */
export function serverDeflateNegotiator(resolved: ResolvedDeflate): (offers: ExtensionOffer[]) => ExtensionOffer[] {
  return (offers) => {
    const options = resolved.options;
    // A shared compressor needs every connection to reset its context after each message.
    const accepted = acceptDeflateOffer(offers, options.sharedCompressor === true ? { ...options, serverNoContextTakeover: true } : options);
    return accepted === null ? [] : [accepted.response];
  };
}

/** The extensions a client offers for these settings (RFC 7692 §5). */
export function clientDeflateOffers(resolved: ResolvedDeflate | null): ExtensionOffer[] {
  return resolved === null ? [] : [buildDeflateOffer(resolved.options)];
}

/**
 * The connection's permessage-deflate for a negotiated `Sec-WebSocket-Extensions` value (or
 * an agreement already worked out, which wins), or undefined when it has none or
 * compression is off here.
 * @throws HandshakeError when the value's permessage-deflate element is invalid
 */
export function perMessageDeflateFor(
  role: Role,
  extensions: string,
  resolved: ResolvedDeflate | null,
  known?: DeflateAgreement | null,
): PerMessageDeflate | undefined {
  if (resolved === null || (extensions === '' && known == null)) return undefined;
  const agreement = known !== undefined ? known : deflateAgreementOf(extensions);
  if (agreement === null) return undefined;
  return new PerMessageDeflate(role, agreement, resolved.engine, resolved.options);
}
