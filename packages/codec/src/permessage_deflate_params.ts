/**
 * Negotiation of the permessage-deflate extension (RFC 7692 §5, §7.1): the four extension
 * parameters (§7.1.1.1 `server_no_context_takeover`, §7.1.1.2 `client_no_context_takeover`,
 * §7.1.2.1 `server_max_window_bits`, §7.1.2.2 `client_max_window_bits`), the client's offer,
 * the server's choice among offers and response, and the client's check of that response.
 *
 * The result of a negotiation is a {@link DeflateAgreement}: what each end compresses with
 * and may expect from its peer. The codec's engines take it from there (`deflate_engine.ts`).
 * @module
 */
import { HandshakeError } from './errors.ts';
import { type ExtensionOffer, type ExtensionParam, parseExtensionHeader, trimOws } from './header_grammar.ts';

/** The extension token of permessage-deflate (RFC 7692 §7, registered in §9.1). */
export const PERMESSAGE_DEFLATE = 'permessage-deflate';

/** The extension parameters RFC 7692 §7.1 defines; names are matched exactly (lowercase). */
const Param = {
  /** §7.1.1.1: no value. */
  ServerNoContextTakeover: 'server_no_context_takeover',
  /** §7.1.1.2: no value. */
  ClientNoContextTakeover: 'client_no_context_takeover',
  /** §7.1.2.1: always a value, 8..15. */
  ServerMaxWindowBits: 'server_max_window_bits',
  /** §7.1.2.2: a value 8..15, or (in an offer only) no value. */
  ClientMaxWindowBits: 'client_max_window_bits',
} as const;

/** The LZ77 window bounds, as base-2 logarithms (RFC 7692 §7.1.2.1, §7.1.2.2). */
const MIN_WINDOW_BITS = 8;
const MAX_WINDOW_BITS = 15;
/** With no `*_max_window_bits` in force, a window may use 2^15 octets (RFC 7692 §7.1.2). */
const DEFAULT_WINDOW_BITS = 15;

/**
 * `*-max-window-bits = 1*DIGIT`, "a decimal integer value without leading zeroes between 8
 * to 15, inclusive" (RFC 7692 §7.1.2.1, §7.1.2.2): exactly `8`..`9` and `10`..`15`.
 * Leading zeros, signs, blanks, fractions and other digits all fail to match.
 */
const WINDOW_BITS_VALUE = /^(?:[89]|1[0-5])$/;

/** The validated parameters of one permessage-deflate element (offer or response). */
export interface DeflateParams {
  /** `server_no_context_takeover` was present (RFC 7692 §7.1.1.1). */
  serverNoContextTakeover: boolean;
  /** `client_no_context_takeover` was present (RFC 7692 §7.1.1.2). */
  clientNoContextTakeover: boolean;
  /** The value of `server_max_window_bits` (8..15), or `undefined` when absent (RFC 7692 §7.1.2.1). */
  serverMaxWindowBits: number | undefined;
  /**
   * The value of `client_max_window_bits` (8..15); `true` when present without a value, which
   * only an offer may do; `undefined` when absent (RFC 7692 §7.1.2.2).
   */
  clientMaxWindowBits: number | true | undefined;
}

/**
 * What both ends agreed on: how the server's messages and the client's messages are
 * compressed. Window bits default to 15 when no parameter limits them.
 */
export interface DeflateAgreement {
  /** The server resets its compression context after every message (RFC 7692 §7.1.1.1). */
  serverNoContextTakeover: boolean;
  /** The client resets its compression context after every message (RFC 7692 §7.1.1.2). */
  clientNoContextTakeover: boolean;
  /** The server compresses with a window of at most 2^n octets, n = 8..15 (RFC 7692 §7.1.2.1). */
  serverMaxWindowBits: number;
  /** The client compresses with a window of at most 2^n octets, n = 8..15 (RFC 7692 §7.1.2.2). */
  clientMaxWindowBits: number;
}

/** A program's negotiation preferences; the same shape serves both roles. */
export interface DeflateNegotiationOptions {
  /**
   * Client: ask the server not to use context takeover (offer `server_no_context_takeover`),
   * which saves the client's inflater its window between messages.
   * Server: always promise it (answer `server_no_context_takeover` even when not asked).
   * Default false.
   */
  serverNoContextTakeover?: boolean;
  /**
   * Client: promise not to use context takeover (offer `client_no_context_takeover`).
   * Server: ask the client not to use it (answer `client_no_context_takeover`), which saves
   * the server's inflater its window between messages. Default false.
   */
  clientNoContextTakeover?: boolean;
  /**
   * 8..15. Client: ask the server to compress with a window of at most 2^n octets (offer
   * `server_max_window_bits=n`). Server: compress with at most 2^n octets, telling the client
   * so. Default: no limit (15).
   */
  serverMaxWindowBits?: number;
  /**
   * 8..15. Client: offer `client_max_window_bits=n`, promising a window of at most 2^n
   * octets; without it the client offers `client_max_window_bits` bare, announcing that it
   * can honour a limit. Server: ask the client to use at most 2^n octets (only possible when
   * the client offered `client_max_window_bits`). Default: no limit (15).
   */
  clientMaxWindowBits?: number;
}

const BOOLEAN_OPTIONS = ['serverNoContextTakeover', 'clientNoContextTakeover'] as const;
const WINDOW_OPTIONS = ['serverMaxWindowBits', 'clientMaxWindowBits'] as const;

/**
 * Checks negotiation options a program passes: the `*NoContextTakeover` flags are booleans,
 * the `*MaxWindowBits` integers from 8 to 15 (RFC 7692 §7.1.2.1, §7.1.2.2). Absent options
 * are fine.
 *
 * @throws {TypeError} when `options` is not an object or an option has the wrong type.
 * @throws {RangeError} when a window size is not an integer from 8 to 15.
 * @example
 * ```ts
 * checkDeflateNegotiationOptions({ serverMaxWindowBits: 10 }); // ok
 * checkDeflateNegotiationOptions({ clientMaxWindowBits: 7 });  // throws RangeError naming clientMaxWindowBits
 * ```
 */
export function checkDeflateNegotiationOptions(options: DeflateNegotiationOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('permessage-deflate options must be an object');
  }
  for (const name of BOOLEAN_OPTIONS) {
    const value: unknown = options[name];
    if (value !== undefined && typeof value !== 'boolean') {
      throw new TypeError(`permessage-deflate option ${name} must be a boolean, not ${JSON.stringify(value) ?? typeof value}`);
    }
  }
  for (const name of WINDOW_OPTIONS) {
    const value: unknown = options[name];
    if (value === undefined) continue;
    if (typeof value !== 'number') {
      throw new TypeError(`permessage-deflate option ${name} must be a number, not ${JSON.stringify(value) ?? typeof value}`);
    }
    if (!Number.isInteger(value) || value < MIN_WINDOW_BITS || value > MAX_WINDOW_BITS) {
      throw new RangeError(`permessage-deflate option ${name} must be an integer from ${MIN_WINDOW_BITS} to ${MAX_WINDOW_BITS}, not ${value}`);
    }
  }
}

function badParams(from: 'offer' | 'response', message: string): HandshakeError {
  return new HandshakeError('BAD_EXTENSION', `permessage-deflate ${from}: ${message}`);
}

/** Reads a `*_max_window_bits` value (RFC 7692 §7.1.2.1, §7.1.2.2), or throws. */
function windowBits(from: 'offer' | 'response', name: string, value: string): number {
  if (!WINDOW_BITS_VALUE.test(value)) {
    throw badParams(from, `${name}=${value} is not an integer from ${MIN_WINDOW_BITS} to ${MAX_WINDOW_BITS} without leading zeros`);
  }
  return Number(value);
}

/**
 * Parses and validates the parameters of one permessage-deflate element, as
 * {@link parseExtensionHeader} returns them (quoted values already unquoted; RFC 7692 §7.1
 * lets a value be a token or a quoted-string). Applies RFC 7692 §7.1: a parameter not defined
 * for the element, a repeated parameter or an invalid value makes the element invalid (a
 * server then declines the offer, a client fails the connection). In detail:
 * - `server_no_context_takeover`, `client_no_context_takeover` take no value (§7.1.1.1, §7.1.1.2);
 * - `server_max_window_bits` needs a value 8..15 without leading zeros (§7.1.2.1);
 * - `client_max_window_bits` takes such a value, or in an offer none (§7.1.2.2).
 *
 * @throws {HandshakeError} `BAD_EXTENSION` on an unknown, repeated or invalid parameter.
 * @example
 * ```ts
 * parseDeflateParams([['client_max_window_bits', true]], 'offer');
 * // { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: undefined, clientMaxWindowBits: true }
 * parseDeflateParams([['client_max_window_bits', true]], 'response'); // throws: a response needs a value
 * parseDeflateParams([['server_max_window_bits', '08']], 'offer');    // throws: leading zero
 * ```
 */
export function parseDeflateParams(params: readonly ExtensionParam[], from: 'offer' | 'response'): DeflateParams {
  const result: DeflateParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  const seen = new Set<string>();
  for (const [name, value] of params) {
    // §7.1: "multiple extension parameters with the same name" make the element invalid.
    if (seen.has(name)) throw badParams(from, `parameter ${name} is repeated`);
    seen.add(name);
    switch (name) {
      case Param.ServerNoContextTakeover:
      case Param.ClientNoContextTakeover:
        // §7.1.1.1, §7.1.1.2: "This extension parameter has no value."
        if (value !== true) throw badParams(from, `${name} takes no value, got ${name}=${value}`);
        if (name === Param.ServerNoContextTakeover) result.serverNoContextTakeover = true;
        else result.clientNoContextTakeover = true;
        break;
      case Param.ServerMaxWindowBits:
        // §7.1.2.1: the parameter always has a value, in offers and responses alike.
        if (value === true) throw badParams(from, `${name} needs a value`);
        result.serverMaxWindowBits = windowBits(from, name, value);
        break;
      case Param.ClientMaxWindowBits:
        // §7.1.2.2: "This parameter has no value or a decimal integer value" in an offer; a
        // response limits the client, which only a value can do.
        if (value === true) {
          if (from === 'response') throw badParams(from, `${name} needs a value in a response`);
          result.clientMaxWindowBits = true;
        } else {
          result.clientMaxWindowBits = windowBits(from, name, value);
        }
        break;
      default:
        // §7.1: "an extension parameter not defined for use in an offer / a response".
        throw badParams(from, `unknown parameter ${name}`);
    }
  }
  return result;
}

/**
 * Builds the client's offer (RFC 7692 §5, §7.1). Parameters come in the order §7.1 lists
 * them. `client_max_window_bits` is always offered: bare when no `clientMaxWindowBits` is
 * set, which tells the server the client can honour a limit (§7.1.2.2), as browsers do.
 *
 * @throws {TypeError|RangeError} when an option is invalid ({@link checkDeflateNegotiationOptions}).
 * @example
 * ```ts
 * serializeExtensionHeader([buildDeflateOffer()]);
 * // 'permessage-deflate; client_max_window_bits' (Chromium's offer)
 * serializeExtensionHeader([buildDeflateOffer({ serverNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 12 })]);
 * // 'permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12'
 * ```
 */
export function buildDeflateOffer(options: DeflateNegotiationOptions = {}): ExtensionOffer {
  checkDeflateNegotiationOptions(options);
  const params: ExtensionParam[] = [];
  if (options.serverNoContextTakeover === true) params.push([Param.ServerNoContextTakeover, true]);
  if (options.clientNoContextTakeover === true) params.push([Param.ClientNoContextTakeover, true]);
  if (options.serverMaxWindowBits !== undefined) params.push([Param.ServerMaxWindowBits, String(options.serverMaxWindowBits)]);
  params.push([Param.ClientMaxWindowBits, options.clientMaxWindowBits === undefined ? true : String(options.clientMaxWindowBits)]);
  return { name: PERMESSAGE_DEFLATE, params };
}

/** Serializes validated parameters as a response element, in the order §7.1 lists them. */
function responseElement(params: DeflateParams): ExtensionOffer {
  const out: ExtensionParam[] = [];
  if (params.serverNoContextTakeover) out.push([Param.ServerNoContextTakeover, true]);
  if (params.clientNoContextTakeover) out.push([Param.ClientNoContextTakeover, true]);
  if (params.serverMaxWindowBits !== undefined) out.push([Param.ServerMaxWindowBits, String(params.serverMaxWindowBits)]);
  if (typeof params.clientMaxWindowBits === 'number') out.push([Param.ClientMaxWindowBits, String(params.clientMaxWindowBits)]);
  return { name: PERMESSAGE_DEFLATE, params: out };
}

/**
 * The agreement an accepted offer and its response make. Both roles compute it this way, so
 * they agree. A client's promises in its offer bind it even when the response is silent:
 * `client_no_context_takeover` (§7.1.1.2, "the client is not going to use context
 * takeover") and `client_max_window_bits=N` (§7.1.2.2, "the client is not going to use an
 * LZ77 sliding window size greater than the size specified by the value").
 */
function agreementOf(response: DeflateParams, offer: DeflateParams): DeflateAgreement {
  const offeredClientBits = typeof offer.clientMaxWindowBits === 'number' ? offer.clientMaxWindowBits : undefined;
  const responseClientBits = typeof response.clientMaxWindowBits === 'number' ? response.clientMaxWindowBits : undefined;
  return {
    serverNoContextTakeover: response.serverNoContextTakeover,
    clientNoContextTakeover: response.clientNoContextTakeover || offer.clientNoContextTakeover,
    serverMaxWindowBits: response.serverMaxWindowBits ?? DEFAULT_WINDOW_BITS,
    clientMaxWindowBits: responseClientBits ?? offeredClientBits ?? DEFAULT_WINDOW_BITS,
  };
}

/**
 * Server: picks the first acceptable permessage-deflate offer among a client's offers, in the
 * client's order of preference (RFC 7692 §5.1), and builds the response to it. Elements of
 * other extensions are ignored. An offer with an unknown, repeated or invalid parameter is
 * declined and the next one tried (§7.1: a server "MUST decline" it). Every valid offer can be
 * honoured, since a server may always compress less (§7.1.2.1). The response:
 * - `server_no_context_takeover` when offered (§7.1.1.1: including it is how a server accepts)
 *   or when `options.serverNoContextTakeover` (§7.1.1.1: a server MAY include it unasked);
 * - `client_no_context_takeover` when offered (§7.1.1.2: the server may use the hint, and
 *   echoing it lets the server's inflater drop its window) or when
 *   `options.clientNoContextTakeover` (§7.1.1.2: a server MAY include it unasked);
 * - `server_max_window_bits=min(offered, options.serverMaxWindowBits ?? 15)` when offered
 *   (§7.1.2.1: "the same or smaller value"); unasked, `options.serverMaxWindowBits` when
 *   below 15 (§7.1.2.1: a server MAY include it even if the offer didn't);
 * - `client_max_window_bits` only when the offer had it (§7.1.2.2: otherwise the response
 *   "MUST NOT include" it): with an offered value N, `min(N, options.clientMaxWindowBits ?? 15)`,
 *   always written, so both ends read the same limit from the response; offered bare,
 *   `options.clientMaxWindowBits` when below 15 (15 is no limit, so it is left out).
 *
 * @throws {TypeError|RangeError} when an option is invalid ({@link checkDeflateNegotiationOptions});
 *   a client's offers never make it throw.
 * @example
 * ```ts
 * const offers = parseExtensionHeader('permessage-deflate; client_max_window_bits');
 * const accepted = acceptDeflateOffer(offers, { clientMaxWindowBits: 10 });
 * serializeExtensionHeader([accepted!.response]); // 'permessage-deflate; client_max_window_bits=10'
 * accepted!.agreement;
 * // { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 10 }
 * ```
 */
export function acceptDeflateOffer(
  offers: readonly ExtensionOffer[],
  options: DeflateNegotiationOptions = {},
): { response: ExtensionOffer; agreement: DeflateAgreement } | null {
  checkDeflateNegotiationOptions(options);
  for (const offer of offers) {
    if (offer.name !== PERMESSAGE_DEFLATE) continue;
    let offered: DeflateParams;
    try {
      offered = parseDeflateParams(offer.params, 'offer');
    } catch (error) {
      if (error instanceof HandshakeError) continue; // §7.1: decline it, try the next offer
      throw error;
    }

    const serverCap = options.serverMaxWindowBits ?? MAX_WINDOW_BITS;
    let serverMaxWindowBits: number | undefined;
    if (offered.serverMaxWindowBits !== undefined) serverMaxWindowBits = Math.min(offered.serverMaxWindowBits, serverCap);
    else if (serverCap < MAX_WINDOW_BITS) serverMaxWindowBits = serverCap;

    const clientCap = options.clientMaxWindowBits ?? MAX_WINDOW_BITS;
    let clientMaxWindowBits: number | undefined;
    if (typeof offered.clientMaxWindowBits === 'number') clientMaxWindowBits = Math.min(offered.clientMaxWindowBits, clientCap);
    else if (offered.clientMaxWindowBits === true && clientCap < MAX_WINDOW_BITS) clientMaxWindowBits = clientCap;

    const response: DeflateParams = {
      serverNoContextTakeover: offered.serverNoContextTakeover || options.serverNoContextTakeover === true,
      clientNoContextTakeover: offered.clientNoContextTakeover || options.clientNoContextTakeover === true,
      serverMaxWindowBits,
      clientMaxWindowBits,
    };
    return { response: responseElement(response), agreement: agreementOf(response, offered) };
  }
  return null;
}

/**
 * Client: validates the server's permessage-deflate response element against the offer it
 * answers, and returns the agreement. The client must fail the WebSocket connection when
 * this throws (RFC 7692 §5, §7.1). It throws when the response
 * - has an unknown, repeated or invalid parameter, or `client_max_window_bits` without a
 *   value (§7.1, §7.1.2.2);
 * - lacks `server_no_context_takeover` although the offer had it (§7.1.1.1: "A server accepts
 *   an extension negotiation offer that includes the "server_no_context_takeover" extension
 *   parameter by including" it, so a response without it accepts no such offer);
 * - lacks `server_max_window_bits` although offered, or has it larger than offered
 *   (§7.1.2.1: a server accepts it by including it "with the same or smaller value");
 * - has `client_max_window_bits` when the offer had none (§7.1.2.2: "MUST NOT include"), or
 *   larger than the value offered (§7.1.2.2: "equal to or smaller than the received value").
 *
 * `server_no_context_takeover`, `client_no_context_takeover` and `server_max_window_bits`
 * are accepted unasked (§7.1.1.1, §7.1.1.2, §7.1.2.1 each let a server include them).
 *
 * @throws {HandshakeError} `BAD_EXTENSION` as listed above.
 * @throws {TypeError} when `offer` itself is not a valid permessage-deflate offer.
 * @example
 * ```ts
 * const offer = buildDeflateOffer({ serverMaxWindowBits: 10 });
 * const [response] = parseExtensionHeader('permessage-deflate; server_max_window_bits=9');
 * agreementFromResponse(response, offer).serverMaxWindowBits; // 9
 * const [tooBig] = parseExtensionHeader('permessage-deflate; server_max_window_bits=12');
 * agreementFromResponse(tooBig, offer); // throws HandshakeError BAD_EXTENSION
 * ```
 */
export function agreementFromResponse(response: ExtensionOffer, offer: ExtensionOffer): DeflateAgreement {
  let offered: DeflateParams;
  try {
    if (offer.name !== PERMESSAGE_DEFLATE) throw badParams('offer', `the offer is for "${offer.name}"`);
    offered = parseDeflateParams(offer.params, 'offer');
  } catch (error) {
    if (error instanceof HandshakeError) throw new TypeError(`Invalid permessage-deflate offer: ${error.message}`);
    throw error;
  }
  if (response.name !== PERMESSAGE_DEFLATE) {
    throw badParams('response', `the response is for "${response.name}"`);
  }
  const accepted = parseDeflateParams(response.params, 'response');
  if (offered.serverNoContextTakeover && !accepted.serverNoContextTakeover) {
    throw badParams('response', `${Param.ServerNoContextTakeover} was offered but not accepted (RFC 7692 §7.1.1.1)`);
  }
  if (offered.serverMaxWindowBits !== undefined) {
    if (accepted.serverMaxWindowBits === undefined) {
      throw badParams('response', `${Param.ServerMaxWindowBits} was offered but not accepted (RFC 7692 §7.1.2.1)`);
    }
    if (accepted.serverMaxWindowBits > offered.serverMaxWindowBits) {
      throw badParams(
        'response',
        `${Param.ServerMaxWindowBits}=${accepted.serverMaxWindowBits} exceeds the ${offered.serverMaxWindowBits} offered (RFC 7692 §7.1.2.1)`,
      );
    }
  }
  if (accepted.clientMaxWindowBits !== undefined) {
    if (offered.clientMaxWindowBits === undefined) {
      throw badParams('response', `${Param.ClientMaxWindowBits} was not offered (RFC 7692 §7.1.2.2)`);
    }
    if (typeof offered.clientMaxWindowBits === 'number' && (accepted.clientMaxWindowBits as number) > offered.clientMaxWindowBits) {
      throw badParams(
        'response',
        `${Param.ClientMaxWindowBits}=${accepted.clientMaxWindowBits} exceeds the ${offered.clientMaxWindowBits} offered (RFC 7692 §7.1.2.2)`,
      );
    }
  }
  return agreementOf(accepted, offered);
}

/**
 * The agreement recorded in a negotiated `Sec-WebSocket-Extensions` value (what a connection
 * was opened with, as the server sent it), or `null` when it holds no permessage-deflate
 * (an empty value included).
 * The element is checked as a response (RFC 7692 §7.1) but, with no offer to compare with,
 * limits come from the response alone: a client that offered `client_max_window_bits=N` or
 * `client_no_context_takeover` and got a response without them is still bound by them
 * (§7.1.1.2, §7.1.2.2); {@link agreementFromResponse} with the offer accounts for that.
 *
 * @throws {HandshakeError} `BAD_EXTENSION` when the value breaks the RFC 6455 §9.1 grammar,
 *   has permessage-deflate twice, or its element is invalid as a response.
 * @example
 * ```ts
 * deflateAgreementOf('permessage-deflate; server_no_context_takeover; client_max_window_bits=10');
 * // { serverNoContextTakeover: true, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 10 }
 * deflateAgreementOf('x-webkit-deflate-frame'); // null
 * ```
 */
export function deflateAgreementOf(extensionsHeader: string): DeflateAgreement | null {
  if (trimOws(extensionsHeader) === '') return null; // no extension at all, as `WebSocket.extensions` reads then
  const elements = parseExtensionHeader(extensionsHeader).filter(({ name }) => name === PERMESSAGE_DEFLATE);
  if (elements.length === 0) return null;
  if (elements.length > 1) throw badParams('response', 'permessage-deflate is accepted more than once');
  const noOffer: DeflateParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  return agreementOf(parseDeflateParams(elements[0]!.params, 'response'), noOffer);
}
