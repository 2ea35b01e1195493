import { describe, expect, it } from 'vitest';
import { HandshakeError } from '../src/errors.ts';
import { type ExtensionOffer, parseExtensionHeader, serializeExtensionHeader } from '../src/header_grammar.ts';
import {
  type DeflateAgreement,
  type DeflateNegotiationOptions,
  type DeflateParams,
  PERMESSAGE_DEFLATE,
  acceptDeflateOffer,
  agreementFromResponse,
  buildDeflateOffer,
  checkDeflateNegotiationOptions,
  deflateAgreementOf,
  parseDeflateParams,
} from '../src/permessage_deflate_params.ts';

/** Runs `fn` and returns what it threw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

function expectBadExtension(fn: () => unknown): HandshakeError {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(HandshakeError);
  expect(error).toMatchObject({ code: 'BAD_EXTENSION' });
  return error as HandshakeError;
}

/** The params of the only element of a header value, as a peer's header would arrive. */
function paramsOf(header: string): ExtensionOffer['params'] {
  const elements = parseExtensionHeader(header);
  expect(elements).toHaveLength(1);
  return elements[0]!.params;
}

/** One element of a header value, parsed as it arrives from the wire. */
function element(header: string): ExtensionOffer {
  const [first] = parseExtensionHeader(header);
  return first!;
}

const NONE: DeflateParams = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: undefined, clientMaxWindowBits: undefined };
const DEFAULT_AGREEMENT: DeflateAgreement = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };

describe('PERMESSAGE_DEFLATE', () => {
  it('is the RFC 7692 §7 extension token', () => {
    expect(PERMESSAGE_DEFLATE).toBe('permessage-deflate');
  });
});

describe('parseDeflateParams (RFC 7692 §7.1)', () => {
  const valid: [header: string, from: 'offer' | 'response', expected: Partial<DeflateParams>][] = [
    ['permessage-deflate', 'offer', {}],
    ['permessage-deflate', 'response', {}],
    // Chromium's offer: client_max_window_bits without a value (§7.1.2.2)
    ['permessage-deflate; client_max_window_bits', 'offer', { clientMaxWindowBits: true }],
    ['permessage-deflate; server_no_context_takeover', 'offer', { serverNoContextTakeover: true }],
    ['permessage-deflate; server_no_context_takeover', 'response', { serverNoContextTakeover: true }],
    ['permessage-deflate; client_no_context_takeover', 'offer', { clientNoContextTakeover: true }],
    ['permessage-deflate; client_no_context_takeover', 'response', { clientNoContextTakeover: true }],
    // the window bounds 8 and 15, for both parameters and both roles
    ['permessage-deflate; server_max_window_bits=8', 'offer', { serverMaxWindowBits: 8 }],
    ['permessage-deflate; server_max_window_bits=15', 'response', { serverMaxWindowBits: 15 }],
    ['permessage-deflate; client_max_window_bits=8', 'response', { clientMaxWindowBits: 8 }],
    ['permessage-deflate; client_max_window_bits=15', 'offer', { clientMaxWindowBits: 15 }],
    ['permessage-deflate; server_max_window_bits=9', 'offer', { serverMaxWindowBits: 9 }],
    ['permessage-deflate; client_max_window_bits=12', 'response', { clientMaxWindowBits: 12 }],
    // quoted-string values (§7.1 allows them; the header grammar unquotes)
    ['permessage-deflate; server_max_window_bits="10"', 'offer', { serverMaxWindowBits: 10 }],
    ['permessage-deflate; client_max_window_bits="11"', 'response', { clientMaxWindowBits: 11 }],
    ['permessage-deflate; client_max_window_bits="1\\3"', 'offer', { clientMaxWindowBits: 13 }],
    // all four, ws-style, in any order
    [
      'permessage-deflate; client_max_window_bits=11; server_max_window_bits=10; client_no_context_takeover; server_no_context_takeover',
      'offer',
      { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 11 },
    ],
  ];
  it.each(valid)('reads "%s" as a valid %s', (header, from, expected) => {
    expect(parseDeflateParams(paramsOf(header), from)).toStrictEqual({ ...NONE, ...expected });
  });

  const invalid: [header: string, from: 'offer' | 'response', why: string][] = [
    ['permessage-deflate; client_max_window_bits', 'response', 'client_max_window_bits without a value in a response'],
    ['permessage-deflate; server_max_window_bits', 'offer', 'server_max_window_bits without a value'],
    ['permessage-deflate; server_max_window_bits', 'response', 'server_max_window_bits without a value'],
    ['permessage-deflate; server_max_window_bits=7', 'offer', 'window bits below 8'],
    ['permessage-deflate; client_max_window_bits=7', 'response', 'window bits below 8'],
    ['permessage-deflate; server_max_window_bits=16', 'response', 'window bits above 15'],
    ['permessage-deflate; client_max_window_bits=16', 'offer', 'window bits above 15'],
    ['permessage-deflate; server_max_window_bits=08', 'offer', 'a leading zero'],
    ['permessage-deflate; client_max_window_bits=010', 'offer', 'a leading zero'],
    ['permessage-deflate; client_max_window_bits="08"', 'offer', 'a leading zero in a quoted value'],
    ['permessage-deflate; server_max_window_bits=+9', 'offer', 'a sign'],
    ['permessage-deflate; server_max_window_bits=-9', 'response', 'a negative sign'],
    ['permessage-deflate; client_max_window_bits=9.0', 'offer', 'a fraction'],
    ['permessage-deflate; client_max_window_bits=1e1', 'offer', 'an exponent'],
    ['permessage-deflate; server_max_window_bits=ten', 'offer', 'non-digits'],
    ['permessage-deflate; server_max_window_bits=0x9', 'offer', 'hex'],
    ['permessage-deflate; server_no_context_takeover=true', 'offer', 'a value on server_no_context_takeover'],
    ['permessage-deflate; client_no_context_takeover=1', 'response', 'a value on client_no_context_takeover'],
    ['permessage-deflate; client_no_context_takeover="x"', 'offer', 'a quoted value on client_no_context_takeover'],
    ['permessage-deflate; server_no_context_takeover; server_no_context_takeover', 'offer', 'a repeated flag'],
    ['permessage-deflate; client_no_context_takeover; client_no_context_takeover', 'response', 'a repeated flag'],
    ['permessage-deflate; server_max_window_bits=10; server_max_window_bits=10', 'offer', 'a repeated value, even equal'],
    ['permessage-deflate; client_max_window_bits; client_max_window_bits=10', 'offer', 'a repeated parameter, bare then valued'],
    ['permessage-deflate; client_max_window_bits=9; client_max_window_bits=10', 'response', 'a repeated value'],
    ['permessage-deflate; foo', 'offer', 'an unknown parameter'],
    ['permessage-deflate; mux=1', 'response', 'an unknown parameter'],
    ['permessage-deflate; Server_No_Context_Takeover', 'offer', 'a parameter name in another case'],
    ['permessage-deflate; client_max_window', 'offer', 'a truncated name'],
  ];
  it.each(invalid)('refuses "%s" as a %s (%s)', (header, from) => {
    expectBadExtension(() => parseDeflateParams(paramsOf(header), from));
  });

  it('accepts every value 8..15 and nothing else from 0 to 99', () => {
    for (let n = 0; n < 100; n++) {
      const params: ExtensionOffer['params'] = [['server_max_window_bits', String(n)]];
      if (n >= 8 && n <= 15) expect(parseDeflateParams(params, 'response').serverMaxWindowBits).toBe(n);
      else expectBadExtension(() => parseDeflateParams(params, 'response'));
    }
  });

  it('names the offending parameter in the error', () => {
    expect(expectBadExtension(() => parseDeflateParams(paramsOf('permessage-deflate; x_bits=1'), 'offer')).message).toContain('x_bits');
    expect(expectBadExtension(() => parseDeflateParams(paramsOf('permessage-deflate; server_max_window_bits=16'), 'response')).message).toContain(
      'server_max_window_bits',
    );
  });
});

describe('checkDeflateNegotiationOptions', () => {
  it.each<DeflateNegotiationOptions>([
    {},
    { serverNoContextTakeover: true, clientNoContextTakeover: false },
    { serverMaxWindowBits: 8, clientMaxWindowBits: 15 },
    { serverMaxWindowBits: undefined, clientNoContextTakeover: undefined },
  ])('accepts %j', (options) => {
    expect(() => checkDeflateNegotiationOptions(options)).not.toThrow();
  });

  const bad: [options: unknown, error: typeof TypeError | typeof RangeError, option: string][] = [
    [{ serverMaxWindowBits: 7 }, RangeError, 'serverMaxWindowBits'],
    [{ clientMaxWindowBits: 16 }, RangeError, 'clientMaxWindowBits'],
    [{ clientMaxWindowBits: 10.5 }, RangeError, 'clientMaxWindowBits'],
    [{ serverMaxWindowBits: Number.NaN }, RangeError, 'serverMaxWindowBits'],
    [{ serverMaxWindowBits: '10' }, TypeError, 'serverMaxWindowBits'],
    [{ clientMaxWindowBits: true }, TypeError, 'clientMaxWindowBits'],
    [{ serverNoContextTakeover: 'yes' }, TypeError, 'serverNoContextTakeover'],
    [{ clientNoContextTakeover: 1 }, TypeError, 'clientNoContextTakeover'],
    [null, TypeError, 'options'],
  ];
  it.each(bad)('refuses %j with the error naming the option', (options, error, option) => {
    const e = thrown(() => checkDeflateNegotiationOptions(options as DeflateNegotiationOptions));
    expect(e).toBeInstanceOf(error);
    expect((e as Error).message).toContain(option);
  });

  it('is applied by buildDeflateOffer and acceptDeflateOffer', () => {
    expect(() => buildDeflateOffer({ clientMaxWindowBits: 7 })).toThrow(RangeError);
    expect(() => acceptDeflateOffer(parseExtensionHeader('permessage-deflate'), { serverMaxWindowBits: 16 })).toThrow(RangeError);
  });
});

describe('client: buildDeflateOffer', () => {
  const cases: [options: DeflateNegotiationOptions | undefined, header: string][] = [
    // no options: exactly Chromium's offer
    [undefined, 'permessage-deflate; client_max_window_bits'],
    [{}, 'permessage-deflate; client_max_window_bits'],
    [{ serverNoContextTakeover: true }, 'permessage-deflate; server_no_context_takeover; client_max_window_bits'],
    [{ clientNoContextTakeover: true }, 'permessage-deflate; client_no_context_takeover; client_max_window_bits'],
    [{ serverNoContextTakeover: false, clientNoContextTakeover: false }, 'permessage-deflate; client_max_window_bits'],
    [{ serverMaxWindowBits: 8 }, 'permessage-deflate; server_max_window_bits=8; client_max_window_bits'],
    [{ clientMaxWindowBits: 15 }, 'permessage-deflate; client_max_window_bits=15'],
    [
      { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 11 },
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11',
    ],
  ];
  it.each(cases)('offers %j as "%s"', (options, header) => {
    const offer = buildDeflateOffer(options);
    expect(serializeExtensionHeader([offer])).toBe(header);
  });

  it('builds offers that parse back as valid offers', () => {
    for (const [options] of cases) {
      const offer = element(serializeExtensionHeader([buildDeflateOffer(options)]));
      expect(() => parseDeflateParams(offer.params, 'offer')).not.toThrow();
    }
  });
});

describe('server: acceptDeflateOffer (RFC 7692 §5.1, §7.1)', () => {
  const cases: [name: string, header: string, options: DeflateNegotiationOptions, response: string | null, agreement: Partial<DeflateAgreement> | null][] = [
    ["accepts Chromium's offer with defaults", 'permessage-deflate; client_max_window_bits', {}, 'permessage-deflate', {}],
    ["accepts Firefox's bare offer", 'permessage-deflate', {}, 'permessage-deflate', {}],
    ['ignores other extensions before the offer', 'x-webkit-deflate-frame, permessage-deflate; client_max_window_bits', {}, 'permessage-deflate', {}],
    ['declines when no permessage-deflate is offered', 'x-webkit-deflate-frame; no_context_takeover', {}, null, null],
    [
      'accepts a ws-like offer with all four parameters, narrowing to the offered windows',
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11',
      {},
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=11',
      { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 11 },
    ],
    // §7.1.1.1
    [
      'includes server_no_context_takeover when offered',
      'permessage-deflate; server_no_context_takeover',
      {},
      'permessage-deflate; server_no_context_takeover',
      { serverNoContextTakeover: true },
    ],
    [
      'includes server_no_context_takeover unasked when configured',
      'permessage-deflate',
      { serverNoContextTakeover: true },
      'permessage-deflate; server_no_context_takeover',
      { serverNoContextTakeover: true },
    ],
    [
      'keeps server_no_context_takeover when offered even if configured false',
      'permessage-deflate; server_no_context_takeover',
      { serverNoContextTakeover: false },
      'permessage-deflate; server_no_context_takeover',
      { serverNoContextTakeover: true },
    ],
    // §7.1.1.2
    [
      'asks the client for client_no_context_takeover when not offered',
      'permessage-deflate; client_max_window_bits',
      { clientNoContextTakeover: true },
      'permessage-deflate; client_no_context_takeover',
      { clientNoContextTakeover: true },
    ],
    [
      'echoes an offered client_no_context_takeover',
      'permessage-deflate; client_no_context_takeover',
      {},
      'permessage-deflate; client_no_context_takeover',
      { clientNoContextTakeover: true },
    ],
    // §7.1.2.1
    [
      'answers an offered server_max_window_bits with the same value',
      'permessage-deflate; server_max_window_bits=12',
      {},
      'permessage-deflate; server_max_window_bits=12',
      { serverMaxWindowBits: 12 },
    ],
    [
      'answers an offered server_max_window_bits=15 with 15',
      'permessage-deflate; server_max_window_bits=15',
      {},
      'permessage-deflate; server_max_window_bits=15',
      { serverMaxWindowBits: 15 },
    ],
    [
      'answers an offered server_max_window_bits with its own smaller limit',
      'permessage-deflate; server_max_window_bits=12',
      { serverMaxWindowBits: 9 },
      'permessage-deflate; server_max_window_bits=9',
      { serverMaxWindowBits: 9 },
    ],
    [
      'never answers more than the offered server_max_window_bits',
      'permessage-deflate; server_max_window_bits=8',
      { serverMaxWindowBits: 14 },
      'permessage-deflate; server_max_window_bits=8',
      { serverMaxWindowBits: 8 },
    ],
    [
      'includes server_max_window_bits unasked when it limits itself',
      'permessage-deflate',
      { serverMaxWindowBits: 10 },
      'permessage-deflate; server_max_window_bits=10',
      { serverMaxWindowBits: 10 },
    ],
    ['leaves out an unasked server_max_window_bits of 15', 'permessage-deflate', { serverMaxWindowBits: 15 }, 'permessage-deflate', {}],
    // §7.1.2.2
    [
      'limits the client when it offered client_max_window_bits bare',
      'permessage-deflate; client_max_window_bits',
      { clientMaxWindowBits: 10 },
      'permessage-deflate; client_max_window_bits=10',
      { clientMaxWindowBits: 10 },
    ],
    [
      'leaves out client_max_window_bits=15 for a bare offer',
      'permessage-deflate; client_max_window_bits',
      { clientMaxWindowBits: 15 },
      'permessage-deflate',
      {},
    ],
    [
      'never sends client_max_window_bits when the client did not offer it',
      'permessage-deflate',
      { clientMaxWindowBits: 9 },
      'permessage-deflate',
      {},
    ],
    [
      'echoes an offered client_max_window_bits value',
      'permessage-deflate; client_max_window_bits=11',
      {},
      'permessage-deflate; client_max_window_bits=11',
      { clientMaxWindowBits: 11 },
    ],
    [
      'answers an offered client_max_window_bits with the smaller of both',
      'permessage-deflate; client_max_window_bits=11',
      { clientMaxWindowBits: 8 },
      'permessage-deflate; client_max_window_bits=8',
      { clientMaxWindowBits: 8 },
    ],
    [
      'keeps the offered client_max_window_bits when its own limit is larger',
      'permessage-deflate; client_max_window_bits=9',
      { clientMaxWindowBits: 12 },
      'permessage-deflate; client_max_window_bits=9',
      { clientMaxWindowBits: 9 },
    ],
    [
      'reads quoted values',
      'permessage-deflate; server_max_window_bits="9"; client_max_window_bits="10"',
      {},
      'permessage-deflate; server_max_window_bits=9; client_max_window_bits=10',
      { serverMaxWindowBits: 9, clientMaxWindowBits: 10 },
    ],
    // §5.1: the first acceptable offer in the client's order
    [
      'chooses the first of several valid offers',
      'permessage-deflate; server_max_window_bits=10; client_max_window_bits=10, permessage-deflate; client_max_window_bits, permessage-deflate',
      {},
      'permessage-deflate; server_max_window_bits=10; client_max_window_bits=10',
      { serverMaxWindowBits: 10, clientMaxWindowBits: 10 },
    ],
    // §7.1: invalid offers are declined and the next one is tried
    [
      'declines an offer with a leading-zero value and takes the next',
      'permessage-deflate; server_max_window_bits=08, permessage-deflate; client_max_window_bits',
      {},
      'permessage-deflate',
      {},
    ],
    [
      'declines an offer with a duplicate parameter and takes the next',
      'permessage-deflate; server_no_context_takeover; server_no_context_takeover, permessage-deflate; client_max_window_bits=12',
      {},
      'permessage-deflate; client_max_window_bits=12',
      { clientMaxWindowBits: 12 },
    ],
    [
      'declines an offer with an unknown parameter and takes the next',
      'permessage-deflate; foo=1, x-other, permessage-deflate; server_no_context_takeover',
      {},
      'permessage-deflate; server_no_context_takeover',
      { serverNoContextTakeover: true },
    ],
    [
      'declines offers with out-of-range values and takes the next',
      'permessage-deflate; server_max_window_bits=7, permessage-deflate; client_max_window_bits=16, permessage-deflate; server_max_window_bits=8',
      {},
      'permessage-deflate; server_max_window_bits=8',
      { serverMaxWindowBits: 8 },
    ],
    [
      'declines a bare server_max_window_bits and a valued flag, then has nothing left',
      'permessage-deflate; server_max_window_bits, permessage-deflate; client_no_context_takeover=1',
      {},
      null,
      null,
    ],
  ];
  it.each(cases)('%s', (_name, header, options, response, agreement) => {
    const accepted = acceptDeflateOffer(parseExtensionHeader(header), options);
    if (response === null) {
      expect(accepted).toBeNull();
      return;
    }
    expect(accepted).not.toBeNull();
    expect(serializeExtensionHeader([accepted!.response])).toBe(response);
    expect(accepted!.agreement).toStrictEqual({ ...DEFAULT_AGREEMENT, ...agreement });
  });

  it('declines an empty offer list', () => {
    expect(acceptDeflateOffer([])).toBeNull();
  });

  it('builds responses that a response parser accepts', () => {
    for (const [, header, options, response] of cases) {
      if (response === null) continue;
      const accepted = acceptDeflateOffer(parseExtensionHeader(header), options)!;
      expect(() => parseDeflateParams(accepted.response.params, 'response')).not.toThrow();
    }
  });
});

describe('client: agreementFromResponse (RFC 7692 §5, §7.1)', () => {
  const valid: [name: string, offer: DeflateNegotiationOptions, response: string, agreement: Partial<DeflateAgreement>][] = [
    ['takes a bare response to the default offer as defaults', {}, 'permessage-deflate', {}],
    ['accepts server_no_context_takeover unasked (§7.1.1.1)', {}, 'permessage-deflate; server_no_context_takeover', { serverNoContextTakeover: true }],
    ['accepts client_no_context_takeover unasked (§7.1.1.2)', {}, 'permessage-deflate; client_no_context_takeover', { clientNoContextTakeover: true }],
    [
      'keeps its own client_no_context_takeover promise when the response is silent',
      { clientNoContextTakeover: true },
      'permessage-deflate',
      { clientNoContextTakeover: true },
    ],
    ['accepts server_max_window_bits unasked (§7.1.2.1)', {}, 'permessage-deflate; server_max_window_bits=9', { serverMaxWindowBits: 9 }],
    ['accepts server_max_window_bits equal to the offer', { serverMaxWindowBits: 10 }, 'permessage-deflate; server_max_window_bits=10', { serverMaxWindowBits: 10 }],
    ['accepts server_max_window_bits smaller than the offer', { serverMaxWindowBits: 10 }, 'permessage-deflate; server_max_window_bits=8', { serverMaxWindowBits: 8 }],
    ['accepts any client_max_window_bits after a bare offer', {}, 'permessage-deflate; client_max_window_bits=8', { clientMaxWindowBits: 8 }],
    ['accepts client_max_window_bits=15 after a bare offer', {}, 'permessage-deflate; client_max_window_bits=15', {}],
    ['accepts client_max_window_bits smaller than offered', { clientMaxWindowBits: 12 }, 'permessage-deflate; client_max_window_bits=9', { clientMaxWindowBits: 9 }],
    [
      'keeps its own client_max_window_bits promise when the response is silent',
      { clientMaxWindowBits: 12 },
      'permessage-deflate',
      { clientMaxWindowBits: 12 },
    ],
    [
      'accepts quoted values',
      { serverMaxWindowBits: 12 },
      'permessage-deflate; server_max_window_bits="11"; client_max_window_bits="10"',
      { serverMaxWindowBits: 11, clientMaxWindowBits: 10 },
    ],
    [
      'accepts all four parameters at once',
      { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 11 },
      'permessage-deflate; client_max_window_bits=11; server_max_window_bits=10; client_no_context_takeover; server_no_context_takeover',
      { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 11 },
    ],
  ];
  it.each(valid)('%s', (_name, options, response, agreement) => {
    expect(agreementFromResponse(element(response), buildDeflateOffer(options))).toStrictEqual({ ...DEFAULT_AGREEMENT, ...agreement });
  });

  const invalid: [name: string, offer: ExtensionOffer, response: string][] = [
    ['fails on an unknown parameter', buildDeflateOffer(), 'permessage-deflate; foo'],
    ['fails on a repeated parameter', buildDeflateOffer(), 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
    ['fails on a repeated window size', buildDeflateOffer(), 'permessage-deflate; server_max_window_bits=9; server_max_window_bits=9'],
    ['fails on a bare client_max_window_bits', buildDeflateOffer(), 'permessage-deflate; client_max_window_bits'],
    ['fails on a bare server_max_window_bits', buildDeflateOffer(), 'permessage-deflate; server_max_window_bits'],
    ['fails on server_max_window_bits=7', buildDeflateOffer(), 'permessage-deflate; server_max_window_bits=7'],
    ['fails on server_max_window_bits=16', buildDeflateOffer(), 'permessage-deflate; server_max_window_bits=16'],
    ['fails on client_max_window_bits="08"', buildDeflateOffer(), 'permessage-deflate; client_max_window_bits="08"'],
    ['fails on a value on server_no_context_takeover', buildDeflateOffer(), 'permessage-deflate; server_no_context_takeover=1'],
    ['fails on a value on client_no_context_takeover', buildDeflateOffer(), 'permessage-deflate; client_no_context_takeover=true'],
    [
      'fails when an offered server_no_context_takeover is missing (§7.1.1.1)',
      buildDeflateOffer({ serverNoContextTakeover: true }),
      'permessage-deflate',
    ],
    [
      'fails when an offered server_max_window_bits is missing (§7.1.2.1)',
      buildDeflateOffer({ serverMaxWindowBits: 10 }),
      'permessage-deflate; client_max_window_bits=10',
    ],
    [
      'fails when server_max_window_bits is larger than offered (§7.1.2.1)',
      buildDeflateOffer({ serverMaxWindowBits: 10 }),
      'permessage-deflate; server_max_window_bits=11',
    ],
    [
      'fails on client_max_window_bits that was not offered (§7.1.2.2)',
      element('permessage-deflate'),
      'permessage-deflate; client_max_window_bits=15',
    ],
    [
      'fails when client_max_window_bits is larger than offered (§7.1.2.2)',
      buildDeflateOffer({ clientMaxWindowBits: 9 }),
      'permessage-deflate; client_max_window_bits=10',
    ],
    ['fails on a response for another extension', buildDeflateOffer(), 'x-webkit-deflate-frame'],
  ];
  it.each(invalid)('%s', (_name, offer, response) => {
    expectBadExtension(() => agreementFromResponse(element(response), offer));
  });

  it('treats an invalid offer of its own as a programming error (TypeError)', () => {
    expect(() => agreementFromResponse(element('permessage-deflate'), element('permessage-deflate; foo'))).toThrow(TypeError);
    expect(() => agreementFromResponse(element('permessage-deflate'), element('x-other'))).toThrow(TypeError);
  });
});

describe('round trip: buildDeflateOffer -> acceptDeflateOffer -> agreementFromResponse', () => {
  const flags = [undefined, false, true];
  const windows = [undefined, 8, 9, 12, 15];
  const clientOptions: DeflateNegotiationOptions[] = [];
  for (const serverNoContextTakeover of flags) {
    for (const clientNoContextTakeover of flags) {
      for (const serverMaxWindowBits of windows) {
        for (const clientMaxWindowBits of windows) {
          clientOptions.push({ serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits });
        }
      }
    }
  }
  const serverOptions: DeflateNegotiationOptions[] = [
    {},
    { serverNoContextTakeover: true },
    { clientNoContextTakeover: true },
    { serverMaxWindowBits: 10 },
    { clientMaxWindowBits: 10 },
    { serverMaxWindowBits: 8, clientMaxWindowBits: 8 },
    { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 15 },
  ];

  it(`gives both ends the same agreement, honouring both sides (${clientOptions.length * serverOptions.length} pairs)`, () => {
    let checked = 0;
    for (const client of clientOptions) {
      const offer = buildDeflateOffer(client);
      const offers = parseExtensionHeader(serializeExtensionHeader([offer])); // over the wire
      for (const server of serverOptions) {
        const accepted = acceptDeflateOffer(offers, server);
        expect(accepted).not.toBeNull();
        const header = serializeExtensionHeader([accepted!.response]);
        const fromClient = agreementFromResponse(element(header), offer);
        expect(fromClient).toStrictEqual(accepted!.agreement);
        const a = fromClient;
        // what the client asked for or promised
        if (client.serverNoContextTakeover) expect(a.serverNoContextTakeover).toBe(true);
        if (client.clientNoContextTakeover) expect(a.clientNoContextTakeover).toBe(true);
        expect(a.serverMaxWindowBits).toBeLessThanOrEqual(client.serverMaxWindowBits ?? 15);
        expect(a.clientMaxWindowBits).toBeLessThanOrEqual(client.clientMaxWindowBits ?? 15);
        // what the server promised or asked for
        if (server.serverNoContextTakeover) expect(a.serverNoContextTakeover).toBe(true);
        if (server.clientNoContextTakeover) expect(a.clientNoContextTakeover).toBe(true);
        expect(a.serverMaxWindowBits).toBeLessThanOrEqual(server.serverMaxWindowBits ?? 15);
        expect(a.clientMaxWindowBits).toBeLessThanOrEqual(server.clientMaxWindowBits ?? 15);
        // nothing narrower than both asked for
        expect(a.serverMaxWindowBits).toBe(Math.min(client.serverMaxWindowBits ?? 15, server.serverMaxWindowBits ?? 15));
        expect(a.clientMaxWindowBits).toBe(Math.min(client.clientMaxWindowBits ?? 15, server.clientMaxWindowBits ?? 15));
        expect(a.serverNoContextTakeover).toBe(client.serverNoContextTakeover === true || server.serverNoContextTakeover === true);
        expect(a.clientNoContextTakeover).toBe(client.clientNoContextTakeover === true || server.clientNoContextTakeover === true);
        // the negotiated header alone gives the same agreement (the server always writes its limits)
        expect(deflateAgreementOf(header)).toStrictEqual(a);
        checked++;
      }
    }
    expect(checked).toBe(clientOptions.length * serverOptions.length);
  });
});

describe('deflateAgreementOf', () => {
  const cases: [header: string, agreement: Partial<DeflateAgreement> | null][] = [
    ['', null],
    ['x-webkit-deflate-frame', null],
    ['x-foo; a=1, x-bar', null],
    ['permessage-deflate', {}],
    ['x-foo, permessage-deflate; server_no_context_takeover', { serverNoContextTakeover: true }],
    ['permessage-deflate; client_no_context_takeover; server_max_window_bits=9', { clientNoContextTakeover: true, serverMaxWindowBits: 9 }],
    ['permessage-deflate; client_max_window_bits="8"', { clientMaxWindowBits: 8 }],
  ];
  it.each(cases)('reads "%s"', (header, agreement) => {
    const read = deflateAgreementOf(header);
    if (agreement === null) expect(read).toBeNull();
    else expect(read).toStrictEqual({ ...DEFAULT_AGREEMENT, ...agreement });
  });

  it('reads back what acceptDeflateOffer answered', () => {
    const accepted = acceptDeflateOffer(parseExtensionHeader('permessage-deflate; server_no_context_takeover; client_max_window_bits'), {
      clientNoContextTakeover: true,
      serverMaxWindowBits: 11,
      clientMaxWindowBits: 12,
    })!;
    const header = serializeExtensionHeader([accepted.response]);
    expect(header).toBe('permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11; client_max_window_bits=12');
    expect(deflateAgreementOf(header)).toStrictEqual(accepted.agreement);
  });

  it.each([
    'permessage-deflate; client_max_window_bits',
    'permessage-deflate; foo',
    'permessage-deflate; server_max_window_bits=16',
    'permessage-deflate, permessage-deflate',
    'permessage-deflate;;',
  ])('throws BAD_EXTENSION for "%s"', (header) => {
    expectBadExtension(() => deflateAgreementOf(header));
  });
});
