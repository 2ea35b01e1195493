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
});
