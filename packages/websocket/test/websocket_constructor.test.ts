/**
 * `new WebSocket(url, protocols)`, from the WebSockets Standard's constructor steps and
 * "get a URL record", and Fetch's port blocking.
 */
import { describe, expect, it } from 'vitest';
import { createWebSocketClass, defaultBaseURL, defaultNetwork, isBadPort, WebSocket, type DialRequest } from '../src/index.ts';
import { expectDOMException, nextEvent, record, startServer, uniqueUrl } from './helpers.ts';

describe('WebSocket constructor: arguments (Web IDL)', () => {
  it('throws a TypeError without arguments', () => {
    const Ctor = WebSocket as unknown as new () => WebSocket;
    expect(() => new Ctor()).toThrow(TypeError);
  });

  it('accepts a URL object', () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    expect(ws.url).toBe(server.url.href);
  });

  it('converts a string protocols argument to a one-element list', async () => {
    const server = startServer();
    new WebSocket(server.url, 'chat');
    const handshake = await server.nextHandshake();
    expect(handshake.protocols).toEqual(['chat']);
  });

  it('treats null protocols as the string "null" (DOMString conversion)', async () => {
    const server = startServer();
    new WebSocket(server.url, null as unknown as string);
    expect((await server.nextHandshake()).protocols).toEqual(['null']);
  });

  it('accepts any iterable of protocols, in order', async () => {
    const server = startServer();
    new WebSocket(server.url, new Set(['b', 'a']) as unknown as string[]);
    expect((await server.nextHandshake()).protocols).toEqual(['b', 'a']);
  });

  it('offers no protocol when protocols is omitted or empty', async () => {
    const server = startServer();
    new WebSocket(server.url);
    new WebSocket(server.url, []);
    expect((await server.nextHandshake()).request.headers.has('sec-websocket-protocol')).toBe(false);
    expect((await server.nextHandshake()).request.headers.has('sec-websocket-protocol')).toBe(false);
  });
});

describe('WebSocket constructor: get a URL record', () => {
  // Step 2: "If urlRecord is failure, then throw a "SyntaxError" DOMException."
  // Absolute URLs that no base can rescue ('ws://ex<a.test/': '<' is a forbidden host code point).
  it.each(['ws://', 'ws://ex<a.test/', 'http://[::1/'])('throws SyntaxError for the unparseable URL %j', (url) => {
    expectDOMException(() => new WebSocket(url), 'SyntaxError');
  });

  // In a page, '' and 'not a url' are relative URLs resolved against location (Chromium's own
  // WebSocket accepts them too); they only fail where there is no base URL.
  it.skipIf(defaultBaseURL() !== undefined).each(['', 'not a url'])('throws SyntaxError for %j when there is no base URL', (url) => {
    expectDOMException(() => new WebSocket(url), 'SyntaxError');
  });

  it.skipIf(defaultBaseURL() !== undefined)('throws SyntaxError for a relative URL when there is no base URL', () => {
    expectDOMException(() => new WebSocket('/chat'), 'SyntaxError');
  });

  // "If urlRecord's scheme is "http", then set urlRecord's scheme to "ws"." / "https" → "wss".
  it.each([
    ['http://example.test/chat', 'ws://example.test/chat'],
    ['https://example.test/chat', 'wss://example.test/chat'],
    ['HTTP://EXAMPLE.test:8080', 'ws://example.test:8080/'],
    ['ws://example.test', 'ws://example.test/'],
    ['wss://example.test:443/a?b=c', 'wss://example.test/a?b=c'],
    ['ws://example.test/%23', 'ws://example.test/%23'],
  ])('maps %s to %s', (url, expected) => {
    const ws = new WebSocket(url);
    expect(ws.url).toBe(expected);
    ws.close();
  });

  // "If urlRecord's scheme is not "ws" or "wss", then throw a "SyntaxError" DOMException."
  it.each(['ftp://example.test/', 'file:///tmp/x', 'data:text/plain,x', 'javascript:alert(1)', 'mailto:a@b.test', 'wsx://example.test/'])(
    'throws SyntaxError for the scheme of %s',
    (url) => {
      expectDOMException(() => new WebSocket(url), 'SyntaxError');
    },
  );

  // "If urlRecord's fragment is non-null, then throw a "SyntaxError" DOMException."
  it.each(['ws://example.test/#', 'ws://example.test/#top', 'wss://example.test/?q#', 'http://example.test/#x'])(
    'throws SyntaxError for the fragment in %s, even an empty one',
    (url) => {
      expectDOMException(() => new WebSocket(url), 'SyntaxError');
    },
  );

  it('resolves a relative URL against an injected base URL, mapping https to wss', () => {
    const WS = createWebSocketClass({ dialer: defaultNetwork.dialer, baseURL: 'https://app.test/dir/page.html' });
    expect(new WS('/socket').url).toBe('wss://app.test/socket');
    expect(new WS('socket?x=1').url).toBe('wss://app.test/dir/socket?x=1');
    expect(new WS('//other.test/').url).toBe('wss://other.test/');
    expect(new WS('ws://absolute.test/').url).toBe('ws://absolute.test/');
  });

  it('reads a base URL function at each construction', () => {
    let base = 'http://one.test/';
    const WS = createWebSocketClass({ dialer: defaultNetwork.dialer, baseURL: () => base });
    expect(new WS('/a').url).toBe('ws://one.test/a');
    base = 'https://two.test/';
    expect(new WS('/a').url).toBe('wss://two.test/a');
  });

  it('sends the base URL origin as Origin', async () => {
    const server = startServer();
    const WS = createWebSocketClass({ dialer: defaultNetwork.dialer, baseURL: 'https://app.test/page' });
    new WS(server.url);
    expect((await server.nextHandshake()).origin).toBe('https://app.test');
  });

  it('checks the URL before the protocols', () => {
    expectDOMException(() => new WebSocket('ftp://x.test/', ['a', 'a']), 'SyntaxError');
  });
});

describe('WebSocket constructor: protocols', () => {
  // Step 4: "If any of the values in protocols occur more than once or otherwise fail to
  // match the requirements for elements that comprise the value of Sec-WebSocket-Protocol
  // fields as defined by The WebSocket protocol, then throw a "SyntaxError" DOMException."
  it.each([
    [['chat', 'chat']],
    [['chat', 'CHAT']],
    [['a', 'b', 'A']],
    [['']],
    [['a b']],
    [['a,b']],
    [['a;b']],
    [['{x}']],
    [['é']],
    [['\u0000']],
    [['tab\t']],
    [['"quoted"']],
    [['a/b']],
  ])('throws SyntaxError for %j', (protocols) => {
    expectDOMException(() => new WebSocket(uniqueUrl(), protocols), 'SyntaxError');
  });

  it('throws SyntaxError for an empty string protocol', () => {
    expectDOMException(() => new WebSocket(uniqueUrl(), ''), 'SyntaxError');
  });

  it.each([["!#$%&'*+-.^_`|~"], ['chat.v2'], ['A1']])('accepts the token %j', (protocol) => {
    const ws = new WebSocket(uniqueUrl(), [protocol]);
    expect(ws.readyState).toBe(WebSocket.CONNECTING);
    ws.close();
  });
});

describe('WebSocket constructor: establishing the connection', () => {
  it('starts CONNECTING and fires nothing synchronously', () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    const log = record(ws);
    expect(ws.readyState).toBe(WebSocket.CONNECTING);
    expect(log).toEqual([]);
  });

  it('opens in a later task: a handler attached after the constructor sees open', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    const opened = nextEvent(ws, 'open');
    await server.flush();
    await opened;
    expect(ws.readyState).toBe(WebSocket.OPEN);
  });

  it('fails (error, then close 1006) when no server listens, without throwing', async () => {
    const ws = new WebSocket(uniqueUrl('nobody'));
    const log = record(ws);
    await defaultNetwork.flush();
    expect(log).toEqual(['error(3)', 'close(1006,"",false,3)']);
  });

  // Fetch, "should request be blocked due to a bad port": a network error, which fails the
  // WebSocket connection; the current standard throws nothing from the constructor.
  it.each([1, 25, 6000, 6667, 10080, 0])('fails without dialing a URL on the bad port %i', async (port) => {
    const requests: DialRequest[] = [];
    const WS = createWebSocketClass({
      dialer: (request) => {
        requests.push(request);
        return defaultNetwork.dialer(request);
      },
    });
    const ws = new WS(`ws://ports.test:${port}/`);
    expect(ws.url).toBe(`ws://ports.test:${port}/`);
    const log = record(ws);
    await defaultNetwork.flush();
    expect(log).toEqual(['error(3)', 'close(1006,"",false,3)']);
    expect(requests).toEqual([]);
  });

  it('dials a bad port when port blocking is turned off', async () => {
    const requests: string[] = [];
    const WS = createWebSocketClass({
      blockBadPorts: false,
      dialer: (request) => {
        requests.push(request.url.href);
        return defaultNetwork.dialer(request);
      },
    });
    new WS('ws://ports.test:25/');
    await defaultNetwork.flush();
    expect(requests).toEqual(['ws://ports.test:25/']);
  });

  it('does not block default ports or common ones', () => {
    expect([80, 443, 8080, 3000, 8443].filter(isBadPort)).toEqual([]);
    expect([22, 25, 110, 143, 6697].every(isBadPort)).toBe(true);
  });

  it('passes the URL record and protocols to the dialer, with a signal', async () => {
    const requests: DialRequest[] = [];
    const WS = createWebSocketClass({
      dialer: (request) => {
        requests.push(request);
        return new Promise(() => {});
      },
    });
    const ws = new WS('https://dial.test/x?y=1', ['a', 'b']);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.url.href).toBe('wss://dial.test/x?y=1');
    expect(requests[0]!.protocols).toEqual(['a', 'b']);
    expect(requests[0]!.signal.aborted).toBe(false);
    ws.close();
    expect(requests[0]!.signal.aborted).toBe(true);
  });

  it('fails when the dialer throws synchronously', async () => {
    const WS = createWebSocketClass({
      dialer: () => {
        throw new Error('boom');
      },
    });
    const ws = new WS('ws://throws.test/');
    const log = record(ws);
    await defaultNetwork.flush();
    expect(log).toEqual(['error(3)', 'close(1006,"",false,3)']);
  });

  it('refuses a dialer that is not a function', () => {
    expect(() => createWebSocketClass({} as unknown as { dialer: () => never })).toThrow(TypeError);
  });

  it('takes an options object as the string "[object Object]" (the standard IDL): SyntaxError', () => {
    expectDOMException(() => new WebSocket(uniqueUrl(), { protocols: ['a'] } as unknown as string), 'SyntaxError');
  });

  it('with acceptInit, takes a WebSocketInit: its protocols, and the whole object for the dialer', async () => {
    const server = startServer({ protocols: ['chat'] });
    const inits: unknown[] = [];
    const WS = createWebSocketClass({
      acceptInit: true,
      dialer: (request) => {
        inits.push(request.init);
        return defaultNetwork.dialer(request);
      },
    });
    const init = { protocols: ['chat'], headers: { authorization: 'Bearer x' } };
    const ws = new WS(server.url, init);
    expect(inits).toEqual([init]);
    expect((await server.nextHandshake()).protocols).toEqual(['chat']);
    await nextEvent(ws, 'open');
    expect(ws.protocol).toBe('chat');
    // Strings and sequences still work, and the init's protocols are validated.
    new WS(server.url, ['a']).close();
    expectDOMException(() => new WS(server.url, { protocols: ['a', 'a'] }), 'SyntaxError');
  });

  it('makes classes that extend WebSocket', () => {
    const WS = createWebSocketClass({ dialer: defaultNetwork.dialer });
    const ws = new WS(uniqueUrl());
    expect(ws).toBeInstanceOf(WebSocket);
    expect(ws).toBeInstanceOf(WS);
    expect(WS.OPEN).toBe(1);
    ws.close();
  });
});

describe('WebSocket constructor: credentials in the URL', () => {
  // Fetch: a request whose URL includes credentials sends them as Basic Authorization
  // (the percent-decoded user info), as browsers, Deno, Bun and undici do.
  it('sends Authorization: Basic with the decoded user info of ws://user:pass@host/', async () => {
    const server = startServer();
    const url = new URL(server.url);
    url.username = 'us%C3%A9r';
    url.password = 'p@ss word';
    const ws = new WebSocket(url.href);
    const handshake = await server.nextHandshake();
    // "usér:p@ss word" in UTF-8, base64.
    expect(handshake.request.headers.get('authorization')).toBe(`Basic ${btoa('us\u00c3\u00a9r:p@ss word')}`);
    expect(ws.url).toBe(url.href);
    ws.close();
  });

  it('sends no Authorization without user info', async () => {
    const server = startServer();
    const ws = new WebSocket(server.url);
    expect((await server.nextHandshake()).request.headers.has('authorization')).toBe(false);
    ws.close();
  });
});
