// Which proxy a URL goes through, by HTTP(S)_PROXY and NO_PROXY.
import { describe, expect, test } from 'vitest';
import { isProxyExempt, parseProxyUrl, proxyFromEnvironment } from '../src/proxy_env.ts';

describe('proxyFromEnvironment', () => {
  test.each([
    ['ws://example.com/', { HTTP_PROXY: 'http://p:3128' }, 'http://p:3128/'],
    ['ws://example.com/', { HTTPS_PROXY: 'http://p:3128' }, null],
    ['wss://example.com/', { HTTPS_PROXY: 'http://p:3128' }, 'http://p:3128/'],
    ['wss://example.com/', { HTTP_PROXY: 'http://p:3128' }, null],
    ['ws://example.com/', { http_proxy: 'http://lower:1', HTTP_PROXY: 'http://upper:2' }, 'http://lower:1/'],
    ['wss://example.com/', { https_proxy: 'http://lower:1', HTTPS_PROXY: 'http://upper:2' }, 'http://lower:1/'],
    ['ws://example.com/', { HTTP_PROXY: '' }, null],
    ['ws://example.com/', { HTTP_PROXY: 'proxy.internal:8080' }, 'http://proxy.internal:8080/'],
    ['ws://example.com/', { HTTP_PROXY: 'http://u:p%40ss@p:1' }, 'http://u:p%40ss@p:1/'],
    ['ws://example.com/', { HTTP_PROXY: 'http://p:1', NO_PROXY: 'example.com' }, null],
    ['ws://example.com/', { HTTP_PROXY: 'http://p:1', no_proxy: 'other.com', NO_PROXY: 'example.com' }, 'http://p:1/'],
  ])('%s with %j → %s', (url, env, expected) => {
    expect(proxyFromEnvironment(new URL(url), env)?.href ?? null).toBe(expected);
  });

  // httpoxy: a CGI server passes a request's `Proxy:` header as HTTP_PROXY.
  test.each([
    ['ws://example.com/', { REQUEST_METHOD: 'GET', HTTP_PROXY: 'http://attacker:1' }, null],
    ['ws://example.com/', { REQUEST_METHOD: 'GET', http_proxy: 'http://lower:1', HTTP_PROXY: 'http://attacker:1' }, 'http://lower:1/'],
    ['ws://example.com/', { REQUEST_METHOD: 'GET', http_proxy: 'http://lower:1' }, 'http://lower:1/'],
    // HTTPS_PROXY cannot come from a request header (no `Https-Proxy` mapping matters here: it is not HTTP_PROXY).
    ['wss://example.com/', { REQUEST_METHOD: 'POST', HTTPS_PROXY: 'http://p:1' }, 'http://p:1/'],
    // An empty REQUEST_METHOD is no CGI environment.
    ['ws://example.com/', { REQUEST_METHOD: '', HTTP_PROXY: 'http://p:1' }, 'http://p:1/'],
  ])('as CGI: %s with %j → %s', (url, env, expected) => {
    expect(proxyFromEnvironment(new URL(url), env)?.href ?? null).toBe(expected);
  });

  test('NO_PROXY from the environment is matched with normalised hosts', () => {
    expect(proxyFromEnvironment(new URL('ws://[::1]:8080/'), { HTTP_PROXY: 'http://p:1', NO_PROXY: '0:0:0:0:0:0:0:1' })).toBeNull();
    expect(proxyFromEnvironment(new URL('ws://127.0.0.1/'), { HTTP_PROXY: 'http://p:1', NO_PROXY: '.0.0.1' })?.href).toBe('http://p:1/');
  });

  test('refuses a proxy URL of another scheme, without echoing it', () => {
    expect(() => proxyFromEnvironment(new URL('ws://a/'), { HTTP_PROXY: 'socks5://u:secret@p:1' })).toThrow(TypeError);
    expect(() => parseProxyUrl('http://u:secret@[bad')).toThrow(/^Invalid proxy URL$/);
  });
});

describe('isProxyExempt', () => {
  test.each([
    ['ws://example.com/', '*', true],
    ['ws://example.com/', 'example.com', true],
    ['ws://api.example.com/', 'example.com', true],
    ['ws://badexample.com/', 'example.com', false],
    ['ws://api.example.com/', '.example.com', true],
    ['ws://example.com/', '.example.com', true],
    ['ws://api.example.com/', '*.example.com', true],
    ['ws://EXAMPLE.com/', 'Example.COM', true],
    ['ws://localhost:8080/', 'localhost:8080', true],
    ['ws://localhost:9090/', 'localhost:8080', false],
    ['ws://example.com/', 'example.com:80', true],
    ['wss://example.com/', 'example.com:80', false],
    ['wss://example.com/', 'example.com:443', true],
    ['ws://10.0.0.1/', '10.0.0.1', true],
    ['ws://10.0.0.12/', '10.0.0.1', false],
    ['ws://[::1]:9000/', '[::1]:9000', true],
    ['ws://[::1]:9000/', '::1', true],
    ['ws://[::1]:9000/', '[::1]:9001', false],
    ['ws://b.test/', 'a.test,b.test', true],
    ['ws://b.test/', ' a.test  b.test ', true],
    ['ws://b.test/', '', false],
  ])('%s with NO_PROXY=%j → %s', (url, noProxy, expected) => {
    expect(isProxyExempt(new URL(url), noProxy)).toBe(expected);
  });

  test.each([
    // IPv6: any spelling of the same address, bracketed or not.
    ['ws://[::1]/', '0:0:0:0:0:0:0:1', true],
    ['ws://[0:0:0:0:0:0:0:1]/', '::1', true],
    ['ws://[::1]/', '[0:0::1]', true],
    ['ws://[::1]:9000/', '[0:0:0:0:0:0:0:1]:9000', true],
    ['ws://[2001:db8::1]/', '2001:DB8:0:0:0:0:0:1', true],
    ['ws://[::ffff:7f00:1]/', '::ffff:127.0.0.1', true], // the IPv4 tail is another spelling of the last 32 bits
    ['ws://[::2]/', '::1', false],
    // Trailing dots: a fully qualified name is the same name.
    ['ws://example.com./', 'example.com', true],
    ['ws://example.com/', 'example.com.', true],
    ['ws://api.example.com./', '.example.com.', true],
    // IDN: compared in ASCII, whichever form the entry has.
    ['ws://bücher.example/', 'bücher.example', true],
    ['ws://bücher.example/', 'xn--bcher-kva.example', true],
    ['ws://xn--bcher-kva.example/', 'BÜCHER.example', true],
    ['ws://shop.bücher.example/', '.bücher.example', true],
    ['ws://bucher.example/', 'bücher.example', false],
    // Suffix rules never match an IP address: only the exact address or a CIDR range.
    ['ws://127.0.0.1/', '.0.0.1', false],
    ['ws://127.0.0.1/', '0.0.1', false],
    ['ws://127.0.0.1/', '*.0.0.1', false],
    ['ws://10.0.0.1/', '0.1', false],
    ['ws://[::1]/', ':1', false],
    ['ws://127.0.0.1/', '127.0.0.1', true],
    // CIDR ranges (curl ≥ 7.86, Go).
    ['ws://10.1.2.3/', '10.0.0.0/8', true],
    ['ws://11.1.2.3/', '10.0.0.0/8', false],
    ['ws://192.168.1.200/', '192.168.1.128/25', true],
    ['ws://192.168.1.100/', '192.168.1.128/25', false],
    ['ws://8.8.8.8/', '0.0.0.0/0', true],
    ['ws://[fd12::5]/', 'fd00::/8', true],
    ['ws://[fe80::1]/', 'fd00::/8', false],
    ['ws://[::1]/', '[::1]/128', true],
    ['ws://10.1.2.3/', '10.0.0.0/33', false], // a prefix longer than the address matches nothing
    ['ws://10.1.2.3/', '10.0.0.0/x', false],
    ['ws://[::1]/', '127.0.0.0/8', false], // families never mix
    // Names are not resolved, and an IP entry never matches a name.
    ['ws://localhost/', '127.0.0.1', false],
    ['ws://127.0.0.1/', 'localhost', false],
    // URL parser spellings of the host itself: 0x7f.1 is 127.0.0.1.
    ['ws://0x7f.1/', '127.0.0.1', true],
  ])('normalised: %s with NO_PROXY=%j → %s', (url, noProxy, expected) => {
    expect(isProxyExempt(new URL(url), noProxy)).toBe(expected);
  });
});
