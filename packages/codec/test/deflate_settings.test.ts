// The shims' `perMessageDeflate` setting in both roles: resolving it, the server's choice
// among offers, the client's offer and its check of the answer, and the connection's state.
import { describe, expect, it } from 'vitest';
import {
  acceptKeyOf,
  ClientHandshake,
  clientDeflateOffers,
  type ClientHandshakeStep,
  HandshakeError,
  parseExtensionHeader,
  perMessageDeflateFor,
  resolveDeflate,
  serializeExtensionHeader,
  serverDeflateNegotiator,
} from '../src/index.ts';
import { storedEngine } from './stored_deflate_engine.ts';

const engine = storedEngine();

describe('perMessageDeflate setting', () => {
  it('is off unless set, and off when no engine can run it', () => {
    expect(resolveDeflate(undefined, engine)).toBeNull();
    expect(resolveDeflate(false, engine)).toBeNull();
    expect(resolveDeflate(true, undefined)).toBeNull();
    expect(resolveDeflate(true, engine)).toEqual({ options: {}, engine });
  });

  it('takes an engine of its own over the default', () => {
    const other = storedEngine();
    expect(resolveDeflate({ engine: other, level: 1 }, engine)?.engine).toBe(other);
  });

  it('rejects options out of range with the option named', () => {
    expect(() => resolveDeflate({ clientMaxWindowBits: 16 }, engine)).toThrow(/clientMaxWindowBits/);
    expect(() => resolveDeflate({ level: 11 }, engine)).toThrow(/level/);
    expect(() => resolveDeflate({ threshold: 1.5 }, engine)).toThrow(/threshold/);
    expect(() => resolveDeflate('yes' as never, engine)).toThrow(TypeError);
  });
});

describe('server negotiation', () => {
  it("accepts Chromium's offer and ignores other extensions", () => {
    const negotiate = serverDeflateNegotiator(resolveDeflate(true, engine)!);
    const accepted = negotiate(parseExtensionHeader('x-webkit-deflate-frame, permessage-deflate; client_max_window_bits'));
    expect(serializeExtensionHeader(accepted)).toBe('permessage-deflate');
  });

  it('declines an invalid offer and takes the next one', () => {
    const negotiate = serverDeflateNegotiator(resolveDeflate(true, engine)!);
    const accepted = negotiate(parseExtensionHeader('permessage-deflate; server_max_window_bits=99, permessage-deflate; server_no_context_takeover'));
    expect(serializeExtensionHeader(accepted)).toBe('permessage-deflate; server_no_context_takeover');
  });

  it('accepts nothing when every offer is invalid', () => {
    const negotiate = serverDeflateNegotiator(resolveDeflate(true, engine)!);
    expect(negotiate(parseExtensionHeader('permessage-deflate; client_max_window_bits=7, permessage-deflate; foo'))).toEqual([]);
  });
});

describe('client negotiation', () => {
  const offers = clientDeflateOffers(resolveDeflate({ clientMaxWindowBits: 10, clientNoContextTakeover: true }, engine));

  it('offers what the options ask for', () => {
    expect(serializeExtensionHeader(offers)).toBe('permessage-deflate; client_no_context_takeover; client_max_window_bits=10');
    expect(clientDeflateOffers(null)).toEqual([]);
  });

  /** The client handshake's decision on a 101 that accepts `answer` (or no extension). */
  function answered(answer: string | undefined): ClientHandshakeStep {
    const handshake = new ClientHandshake({ url: 'ws://example.com/', extensions: offers });
    const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${acceptKeyOf(handshake.request.key)}`];
    if (answer !== undefined) lines.push(`Sec-WebSocket-Extensions: ${answer}`);
    return handshake.receive(new TextEncoder().encode(`${lines.join('\r\n')}\r\n\r\n`));
  }

  it('keeps to what it offered when the server leaves it out of the answer (RFC 7692 §7.1.1.2, §7.1.2.2)', () => {
    const negotiated = answered('permessage-deflate');
    if (negotiated.kind !== 'accept') throw new Error(`not accepted: ${negotiated.kind}`);
    expect(negotiated.extensionHeader).toBe('permessage-deflate');
    expect(negotiated.deflate).toEqual({ serverNoContextTakeover: false, clientNoContextTakeover: true, serverMaxWindowBits: 15, clientMaxWindowBits: 10 });
    const pmd = perMessageDeflateFor('client', negotiated.extensionHeader, resolveDeflate(true, engine), negotiated.deflate);
    expect(pmd?.agreement).toEqual(negotiated.deflate);
  });

  for (const answer of [
    'permessage-deflate; client_max_window_bits=12', // larger than offered
    'permessage-deflate; server_max_window_bits', // needs a value
    'permessage-deflate; server_no_context_takeover; server_no_context_takeover', // repeated
    'permessage-deflate; mystery', // unknown
    'x-other', // never offered
  ]) {
    it(`fails the connection on the answer "${answer}"`, () => {
      const refused = answered(answer);
      expect(refused).toMatchObject({ kind: 'refuse', code: 'BAD_EXTENSION' });
      if (refused.kind === 'refuse') expect(refused.error).toBeInstanceOf(HandshakeError);
    });
  }

  it('negotiates nothing when the server accepted nothing', () => {
    expect(answered(undefined)).toMatchObject({ kind: 'accept', extensionHeader: '', deflate: null });
  });
});

describe("the connection's permessage-deflate", () => {
  it('is made from the negotiated header when compression is on here', () => {
    const pmd = perMessageDeflateFor('server', 'permessage-deflate; server_max_window_bits=11', resolveDeflate({ threshold: 7 }, engine));
    expect(pmd?.agreement.serverMaxWindowBits).toBe(11);
    expect(pmd?.threshold).toBe(7);
  });

  it('is absent with nothing negotiated or compression off', () => {
    expect(perMessageDeflateFor('server', '', resolveDeflate(true, engine))).toBeUndefined();
    expect(perMessageDeflateFor('server', 'permessage-deflate', null)).toBeUndefined();
  });
});
