import { describe, expect, it } from 'vitest';
import { HandshakeError } from '../src/errors.ts';
import {
  type ExtensionOffer,
  checkExtensions,
  checkProtocols,
  isToken,
  listContainsToken,
  parseExtensionHeader,
  parseProtocolHeader,
  serializeExtensionHeader,
  serializeProtocolHeader,
  trimOws,
} from '../src/header_grammar.ts';

/** Runs `fn` and returns what it threw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

function expectHandshakeError(fn: () => unknown, code: string): void {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(HandshakeError);
  expect(error).toMatchObject({ code, status: 400 });
}

describe('isToken (RFC 9110 §5.6.2)', () => {
  it('accepts every tchar', () => {
    expect(isToken("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")).toBe(true);
    expect(isToken('permessage-deflate')).toBe(true);
  });

  it('refuses the empty string, delimiters, whitespace, controls and non-ASCII', () => {
    for (const value of ['', 'a b', 'a\tb', 'a,b', 'a;b', 'a=b', '"a"', '(a)', 'a/b', 'a:b', 'a@b', '[a]', '{a}', 'a?', 'a\\b', 'a\x00', 'a\x7f', 'é']) {
      expect(isToken(value)).toBe(false);
    }
  });
});

describe('list helpers (RFC 9110 §5.6.1)', () => {
  it('trimOws strips only SP and HTAB', () => {
    expect(trimOws(' \t a b \t ')).toBe('a b');
    expect(trimOws('\na\n')).toBe('\na\n');
  });

  it('listContainsToken matches elements case-insensitively and ignores empty elements', () => {
    expect(listContainsToken('keep-alive, Upgrade', 'upgrade')).toBe(true);
    expect(listContainsToken(',, websocket ,', 'WebSocket')).toBe(true);
    expect(listContainsToken('websocket/13', 'websocket')).toBe(false);
    expect(listContainsToken('upgrades', 'upgrade')).toBe(false);
    expect(listContainsToken('', 'upgrade')).toBe(false);
  });
});

describe('Sec-WebSocket-Protocol (RFC 6455 §4.1 item 10, §11.3.4)', () => {
  it('parses a comma list with optional whitespace', () => {
    expect(parseProtocolHeader('chat, superchat')).toEqual(['chat', 'superchat']);
    expect(parseProtocolHeader('chat')).toEqual(['chat']);
    expect(parseProtocolHeader(' \tchat,superchat\t ')).toEqual(['chat', 'superchat']);
  });

  it('treats subprotocols as case-sensitive, so "chat" and "Chat" are distinct', () => {
    expect(parseProtocolHeader('chat, Chat')).toEqual(['chat', 'Chat']);
  });

  it('refuses empty elements with BAD_PROTOCOL', () => {
    for (const value of ['', ' ', 'a,,b', 'a,', ',a', 'a, ,b']) expectHandshakeError(() => parseProtocolHeader(value), 'BAD_PROTOCOL');
  });

  it('refuses elements that are not tokens with BAD_PROTOCOL', () => {
    for (const value of ['a b', 'a;b', '"chat"', 'chat/1.0', 'ch\x00at', 'chät']) expectHandshakeError(() => parseProtocolHeader(value), 'BAD_PROTOCOL');
  });

  it('refuses a repeated subprotocol with BAD_PROTOCOL', () => {
    expectHandshakeError(() => parseProtocolHeader('chat, superchat, chat'), 'BAD_PROTOCOL');
  });

  it('serializes a list that parses back equal', () => {
    const protocols = ['chat', 'superchat', 'v2.json'];
    expect(serializeProtocolHeader(protocols)).toBe('chat, superchat, v2.json');
    expect(parseProtocolHeader(serializeProtocolHeader(protocols))).toEqual(protocols);
  });

  it('refuses to serialize an empty, invalid or repeated list with TypeError', () => {
    expect(() => serializeProtocolHeader([])).toThrow(TypeError);
    expect(() => serializeProtocolHeader(['a b'])).toThrow(TypeError);
    expect(() => serializeProtocolHeader([''])).toThrow(TypeError);
    expect(() => serializeProtocolHeader(['chat', 'chat'])).toThrow(TypeError);
    expect(() => checkProtocols(['x\r\nSet-Cookie: a=b'])).toThrow(TypeError);
    expect(() => checkProtocols(['chat', 'Chat'])).not.toThrow();
  });
});

describe('Sec-WebSocket-Extensions (RFC 6455 §9.1)', () => {
  it('parses an extension with a bare parameter (RFC 7692 §7.1.2.1 offer)', () => {
    expect(parseExtensionHeader('permessage-deflate; client_max_window_bits')).toEqual([
      { name: 'permessage-deflate', params: [['client_max_window_bits', true]] },
    ]);
  });

  it('parses several extensions with token and quoted-string values, in order', () => {
    expect(parseExtensionHeader('permessage-deflate; client_max_window_bits=10; server_no_context_takeover, x-foo; a="b", bar')).toEqual([
      { name: 'permessage-deflate', params: [['client_max_window_bits', '10'], ['server_no_context_takeover', true]] },
      { name: 'x-foo', params: [['a', 'b']] },
      { name: 'bar', params: [] },
    ]);
  });

  it('unescapes quoted-pairs inside a quoted-string value (RFC 9110 §5.6.4)', () => {
    expect(parseExtensionHeader('x; a="1\\0"')).toEqual([{ name: 'x', params: [['a', '10']] }]);
  });

  it('accepts optional whitespace around ",", ";" and "="', () => {
    expect(parseExtensionHeader(' a ;\tb = 1 ; c ,\td ')).toEqual([
      { name: 'a', params: [['b', '1'], ['c', true]] },
      { name: 'd', params: [] },
    ]);
  });

  it('keeps repeated extension names and repeated parameters for the extension to judge', () => {
    expect(parseExtensionHeader('a; p=1; p=2, a')).toEqual([
      { name: 'a', params: [['p', '1'], ['p', '2']] },
      { name: 'a', params: [] },
    ]);
  });

  it('refuses empty lists and empty elements with BAD_EXTENSION', () => {
    for (const value of ['', '  ', 'a,', ',a', 'a,,b', 'a, ,b']) expectHandshakeError(() => parseExtensionHeader(value), 'BAD_EXTENSION');
  });

  it('refuses broken parameters with BAD_EXTENSION', () => {
    for (const value of ['a;', 'a;;b', 'a; =1', 'a; b=', 'a; b=,c', 'a; b==1', 'a; b=1=2', 'a; b c']) {
      expectHandshakeError(() => parseExtensionHeader(value), 'BAD_EXTENSION');
    }
  });

  it('refuses quoted values that are not tokens once unescaped, or are unterminated', () => {
    for (const value of ['a; b=""', 'a; b="1 0"', 'a; b="1,0"', 'a; b="x', 'a; b="x\\', 'a; b="a\\"b"']) {
      expectHandshakeError(() => parseExtensionHeader(value), 'BAD_EXTENSION');
    }
  });

  it('refuses names that are not tokens with BAD_EXTENSION', () => {
    for (const value of ['"a"', 'a b', 'a/b', 'é', 'a; b/c']) expectHandshakeError(() => parseExtensionHeader(value), 'BAD_EXTENSION');
  });

  it('serializes offers in token form that parse back equal', () => {
    const offers: ExtensionOffer[] = [
      { name: 'permessage-deflate', params: [['client_max_window_bits', true], ['server_max_window_bits', '10']] },
      { name: 'x-foo', params: [] },
    ];
    const value = serializeExtensionHeader(offers);
    expect(value).toBe('permessage-deflate; client_max_window_bits; server_max_window_bits=10, x-foo');
    expect(parseExtensionHeader(value)).toEqual(offers);
  });

  it('serializes a parsed header to its canonical form, which is a fixed point', () => {
    const canonical = serializeExtensionHeader(parseExtensionHeader('a ;b="1" ,c;d'));
    expect(canonical).toBe('a; b=1, c; d');
    expect(serializeExtensionHeader(parseExtensionHeader(canonical))).toBe(canonical);
  });

  it('refuses to serialize an empty list or any part that is not a token with TypeError', () => {
    expect(() => serializeExtensionHeader([])).toThrow(TypeError);
    expect(() => serializeExtensionHeader([{ name: 'a b', params: [] }])).toThrow(TypeError);
    expect(() => serializeExtensionHeader([{ name: 'a', params: [['b c', true]] }])).toThrow(TypeError);
    expect(() => serializeExtensionHeader([{ name: 'a', params: [['b', '1 0']] }])).toThrow(TypeError);
    expect(() => checkExtensions([{ name: 'a', params: [['b', '']] }])).toThrow(TypeError);
    expect(() => checkExtensions([{ name: 'a', params: [['b', 'x\r\nInjected: 1']] }])).toThrow(TypeError);
  });
});
