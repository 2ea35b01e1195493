// The CONNECT protocol of an HTTP proxy tunnel (RFC 9110 §9.3.6): where the proxy is, the
// request it is sent, and the answers a tunnel can follow.
import { describe, expect, it } from 'vitest';
import { parseResponseHead, type ResponseHead } from '../src/http_head.ts';
import {
  ProxyError,
  authorityOf,
  checkConnectResponse,
  connectRequest,
  isIpLiteral,
  proxyAuthorization,
  proxyEndpoint,
} from '../src/proxy_connect.ts';

function response(text: string): ResponseHead {
  const parsed = parseResponseHead(new TextEncoder().encode(text));
  if (parsed === null) throw new Error('incomplete head');
  return parsed.head;
}

/** Runs `fn` and returns what it threw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('authorityOf and isIpLiteral', () => {
  it.each([
    ['example.com', 443, 'example.com:443'],
    ['10.0.0.1', 80, '10.0.0.1:80'],
    ['::1', 8080, '[::1]:8080'],
    ['2001:db8::7', 443, '[2001:db8::7]:443'],
  ])('authorityOf(%j, %d) is %j', (host, port, authority) => {
    expect(authorityOf(host, port)).toBe(authority);
  });

  it.each([
    ['10.0.0.1', true],
    ['::1', true],
    ['proxy.internal', false],
    ['1.2.3', false],
    ['localhost', false],
  ])('isIpLiteral(%j) is %s', (host, literal) => {
    expect(isIpLiteral(host)).toBe(literal);
  });
});

describe('proxyEndpoint', () => {
  it('defaults the port by scheme and names the proxy for SNI', () => {
    expect(proxyEndpoint(new URL('http://proxy.internal'))).toEqual({ host: 'proxy.internal', port: 80, secure: false, serverName: 'proxy.internal' });
    expect(proxyEndpoint(new URL('https://proxy.internal'))).toEqual({ host: 'proxy.internal', port: 443, secure: true, serverName: 'proxy.internal' });
    expect(proxyEndpoint(new URL('http://proxy:3128'))).toMatchObject({ host: 'proxy', port: 3128 });
  });

  it('unbrackets an IPv6 proxy and gives no SNI name for IP literals', () => {
    expect(proxyEndpoint(new URL('https://[::1]:8443'))).toEqual({ host: '::1', port: 8443, secure: true, serverName: undefined });
    expect(proxyEndpoint(new URL('https://10.0.0.1'))).toMatchObject({ serverName: undefined });
  });
});

describe('proxyAuthorization', () => {
  it('is Basic with the percent-decoded user info in UTF-8 (RFC 7617)', () => {
    // 'Aladdin:open sesame' is RFC 7617 §2's example.
    expect(proxyAuthorization(new URL('http://Aladdin:open%20sesame@proxy'))).toBe('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
    expect(proxyAuthorization(new URL('http://user:p%40ss@proxy'))).toBe(`Basic ${btoa('user:p@ss')}`);
    // Non-ASCII: the UTF-8 bytes of 'ü', not its Latin-1 code.
    expect(proxyAuthorization(new URL('http://%C3%BC:x@proxy'))).toBe('Basic w7w6eA==');
  });

  it('is a user with an empty password when only the user is given, and none without user info', () => {
    expect(proxyAuthorization(new URL('http://user@proxy'))).toBe(`Basic ${btoa('user:')}`);
    expect(proxyAuthorization(new URL('http://proxy:3128'))).toBeUndefined();
  });
});

describe('connectRequest', () => {
  it('asks for the authority-form target with Host set to it', () => {
    expect(connectRequest(new URL('http://proxy:3128'), 'example.com', 443)).toEqual({
      authority: 'example.com:443',
      head: 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
    });
  });

  it('adds Proxy-Authorization from the proxy URL, and brackets an IPv6 target', () => {
    expect(connectRequest(new URL('http://u:p@proxy:3128'), '::1', 8080).head).toBe(
      `CONNECT [::1]:8080 HTTP/1.1\r\nHost: [::1]:8080\r\nProxy-Authorization: Basic ${btoa('u:p')}\r\n\r\n`,
    );
  });
});

describe('checkConnectResponse', () => {
  it('accepts any 2xx with nothing after it', () => {
    expect(() => checkConnectResponse(response('HTTP/1.1 200 Connection Established\r\n\r\n'), 0, 'a:1')).not.toThrow();
    expect(() => checkConnectResponse(response('HTTP/1.1 204 \r\n\r\n'), 0, 'a:1')).not.toThrow();
  });

  it("refuses another status with a ProxyError carrying the proxy's status and reason", () => {
    const error = thrown(() => checkConnectResponse(response('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n'), 0, 'example.com:443'));
    expect(error).toBeInstanceOf(ProxyError);
    expect(error).toMatchObject({
      name: 'ProxyError',
      status: 407,
      message: 'The proxy refused to open a tunnel to example.com:443: 407 Proxy Authentication Required',
    });
    expect(thrown(() => checkConnectResponse(response('HTTP/1.1 502\r\n\r\n'), 0, 'a:1'))).toMatchObject({
      status: 502,
      message: 'The proxy refused to open a tunnel to a:1: 502',
    });
  });

  it('refuses bytes after a 2xx with status 0: the target cannot have spoken yet', () => {
    expect(thrown(() => checkConnectResponse(response('HTTP/1.1 200 OK\r\n\r\n'), 3, 'a:1'))).toMatchObject({
      status: 0,
      message: 'The proxy sent bytes after its CONNECT response, before the request',
    });
  });
});
