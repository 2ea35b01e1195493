/**
 * Fuzz target `permessage_deflate`: permessage-deflate negotiation (RFC 7692 §5, §7.1), a
 * server answering a client's `Sec-WebSocket-Extensions` offers and the client checking the
 * answer, with `ws`'s parameter validation (`PerMessageDeflate#normalizeParams`) to compare.
 *
 * Octet 0 is the server's options (bits 0/1 the two no-context-takeover flags, bits 2–4 and
 * 5–7 the server and client window caps, 0 for none else 7 + n); the rest the offers, as
 * Latin-1. Oracles:
 *  - only `HandshakeError` leaves the parsers; `acceptDeflateOffer` throws nothing for any
 *    offer (as it documents);
 *  - the offer accepted is the first permessage-deflate element whose parameters are valid,
 *    and an element is valid for us only if `ws` finds it valid too (ws reads window bits
 *    with `+value`, so it also takes spellings such as `08` or `1e1`: those alone may differ);
 *  - the response respects the server's caps and the offer (RFC 7692 §7.1.2.1, §7.1.2.2);
 *  - the client, given the serialized response and its own offer, reaches the same agreement
 *    as the server, and so does `deflateAgreementOf` where the offer adds no promise.
 * @module
 */
import { HandshakeError } from '../packages/codec/src/errors.ts';
import { type ExtensionOffer, parseExtensionHeader, serializeExtensionHeader } from '../packages/codec/src/header_grammar.ts';
import {
  acceptDeflateOffer,
  agreementFromResponse,
  type DeflateNegotiationOptions,
  deflateAgreementOf,
  parseDeflateParams,
  PERMESSAGE_DEFLATE,
} from '../packages/codec/src/permessage_deflate_params.ts';
import { FuzzInput } from './support/input.ts';
import { check, documented, sameData } from './support/oracle.ts';
import { latin1 } from './support/text.ts';
import { WsPerMessageDeflate } from './support/ws.ts';

const STRICT_WINDOW_BITS = /^(8|9|1[0-5])$/;

function optionsOf(octet: number): DeflateNegotiationOptions {
  const server = (octet >> 2) & 7;
  const client = (octet >> 5) & 7;
  return {
    serverNoContextTakeover: (octet & 1) !== 0,
    clientNoContextTakeover: (octet & 2) !== 0,
    ...(server === 0 ? {} : { serverMaxWindowBits: 7 + server + (server === 7 ? 1 : 0) }),
    ...(client === 0 ? {} : { clientMaxWindowBits: 7 + client + (client === 7 ? 1 : 0) }),
  };
}

/** Whether `ws` (as a server) finds the element's parameters valid. */
function wsAccepts(offer: ExtensionOffer): boolean {
  const params: Record<string, (string | true)[]> = Object.create(null);
  for (const [name, value] of offer.params) (params[name] ??= []).push(value);
  try {
    new WsPerMessageDeflate({ isServer: true }).normalizeParams([params]);
    return true;
  } catch (error) {
    check(error instanceof Error, `ws threw ${String(error)}`);
    return false;
  }
}

/** Whether the element differs from valid only by window bits spelled as `+value` reads them. */
function onlyLooseWindowBits(offer: ExtensionOffer): boolean {
  return offer.params.some(([name, value]) => name.endsWith('_max_window_bits') && typeof value === 'string' && !STRICT_WINDOW_BITS.test(value));
}

export function fuzz(data: Uint8Array): void {
  const input = new FuzzInput(data);
  const options = optionsOf(input.byte());
  const value = latin1(input.rest());
  const parsed = documented(() => parseExtensionHeader(value), [HandshakeError]);
  if ('error' in parsed) return;
  const offers = parsed.value;

  let expected: ExtensionOffer | undefined;
  for (const offer of offers) {
    if (offer.name !== PERMESSAGE_DEFLATE) continue;
    const ours = documented(() => parseDeflateParams(offer.params, 'offer'), [HandshakeError]);
    const theirs = wsAccepts(offer);
    if ('value' in ours) check(theirs, `offer ${JSON.stringify(offer)}: ours valid, ws invalid`);
    else check(!theirs || onlyLooseWindowBits(offer), `offer ${JSON.stringify(offer)}: ours invalid, ws valid`);
    if ('value' in ours && expected === undefined) expected = offer;
  }

  const accepted = acceptDeflateOffer(offers, options);
  check((accepted === null) === (expected === undefined), `accepted ${JSON.stringify(accepted)}, expected offer ${JSON.stringify(expected)}`);
  if (accepted === null || expected === undefined) return;
  const { agreement, response } = accepted;
  const offered = parseDeflateParams(expected.params, 'offer');
  for (const bits of [agreement.serverMaxWindowBits, agreement.clientMaxWindowBits]) check(bits >= 8 && bits <= 15, `window bits ${bits}`);
  check(agreement.serverMaxWindowBits <= (options.serverMaxWindowBits ?? 15), 'server window above the server cap');
  if (typeof offered.serverMaxWindowBits === 'number') check(agreement.serverMaxWindowBits <= offered.serverMaxWindowBits, 'server window above the offer');
  if (typeof offered.clientMaxWindowBits === 'number') check(agreement.clientMaxWindowBits <= offered.clientMaxWindowBits, 'client window above the offer');
  if (offered.clientMaxWindowBits === undefined) check(!response.params.some(([name]) => name === 'client_max_window_bits'), 'client_max_window_bits answered unasked');
  if (offered.serverNoContextTakeover) check(agreement.serverNoContextTakeover, 'server_no_context_takeover offered but not agreed');

  // The client's side: the response as it goes on the wire, checked against its offer.
  const wire = serializeExtensionHeader([response]);
  const [read] = parseExtensionHeader(wire);
  const client = documented(() => agreementFromResponse(read, expected), [HandshakeError]);
  check('value' in client, `the client refuses the server's response ${wire}: ${'error' in client ? client.error.message : ''}`);
  check(sameData(client.value, agreement), `client agreement ${JSON.stringify(client.value)} differs from the server's ${JSON.stringify(agreement)}`);
  if (!offered.clientNoContextTakeover && typeof offered.clientMaxWindowBits !== 'number') {
    check(sameData(deflateAgreementOf(wire), agreement), `deflateAgreementOf(${wire}) differs from the agreement`);
  }
}
