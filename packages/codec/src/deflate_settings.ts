/**
 * The `perMessageDeflate` setting of the runtime shims, and what they do with it in each
 * role: the server picks among the client's offers, the client offers and checks the
 * server's answer (RFC 7692 §5), and both make the connection's {@link PerMessageDeflate}.
 * @module
 */
import type { Role } from './constants.ts';
import type { DeflateEngine } from './deflate_engine.ts';
import { HandshakeError } from './errors.ts';
import { serializeExtensionHeader, type ExtensionOffer } from './header_grammar.ts';
import { checkDeflateSendOptions, PerMessageDeflate, type PerMessageDeflateOptions } from './per_message_deflate.ts';
import {
  acceptDeflateOffer,
  agreementFromResponse,
  buildDeflateOffer,
  checkDeflateNegotiationOptions,
  deflateAgreementOf,
  PERMESSAGE_DEFLATE,
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

/** What a client negotiated: the server's `Sec-WebSocket-Extensions` value and what it means for compression. */
export interface ClientExtensions {
  /** The server's `Sec-WebSocket-Extensions` value, `''` for none (the WHATWG `extensions`). */
  header: string;
  /**
   * The permessage-deflate agreement, null for none. It also holds what the client bound itself
   * to in its offer (`client_no_context_takeover`, `client_max_window_bits=N`) when the server's
   * answer leaves that out (RFC 7692 §7.1.1.2, §7.1.2.2).
   */
  deflate: DeflateAgreement | null;
}

/**
 * Checks the extensions a server accepted against the client's offers and returns what was
 * negotiated, for the connection.
 * @throws HandshakeError `BAD_EXTENSION` when the server's permessage-deflate parameters are
 *   invalid, duplicated or not requested: the client must fail the connection (RFC 7692 §5)
 * @example
 * ```ts
 * const { extensions } = await validateServerResponse(head, client);
 * const negotiated = clientNegotiatedExtensions(extensions, client.extensions);
 * ```
 */
export function clientNegotiatedExtensions(accepted: readonly ExtensionOffer[], offers: readonly ExtensionOffer[]): ClientExtensions {
  if (accepted.length === 0) return { header: '', deflate: null };
  let deflate: DeflateAgreement | null = null;
  for (const extension of accepted) {
    if (extension.name !== PERMESSAGE_DEFLATE) {
      throw new HandshakeError('BAD_EXTENSION', `The server accepted extension "${extension.name}", which this client does not support`);
    }
    const offer = offers.find((o) => o.name === PERMESSAGE_DEFLATE);
    if (offer === undefined) throw new HandshakeError('BAD_EXTENSION', 'The server accepted permessage-deflate, which was not offered');
    deflate = agreementFromResponse(extension, offer);
  }
  return { header: serializeExtensionHeader(accepted), deflate };
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
