// A fetch-style Response as the HTTP/1.1 bytes a fallback writes back: one response per
// connection, framed by Content-Length, then Connection: close.
import { describe, expect, it } from 'vitest';
import { ReasonPhrase, serializeResponseHead } from '@wsflow/codec';
import { serializeResponse, type ResponseLike } from '../src/http_response.ts';

const text = async (response: ResponseLike, method = 'GET'): Promise<string> => new TextDecoder().decode(await serializeResponse(response, method));

describe('serializeResponse', () => {
  it('writes the status line with the registered phrase, the fields, Content-Length, Connection: close and the body', async () => {
    const bytes = await text(new Response('héllo', { headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Id': '7' } }));
    expect(bytes).toBe(
      'HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\nx-id: 7\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhéllo',
    );
  });

  it("uses the response's statusText when HTTP/1.1 can carry it, else the registered phrase", async () => {
    expect(await text(new Response('', { status: 201, statusText: 'Made It' }))).toMatch(/^HTTP\/1\.1 201 Made It\r\n/);
    expect(await text(new Response('', { status: 201, statusText: 'Créé' }))).toMatch(/^HTTP\/1\.1 201 Created\r\n/);
    expect(await text(new Response('', { status: 418 }))).toMatch(/^HTTP\/1\.1 418 \r\n/);
  });

  // A browser's Headers hides Set-Cookie (a forbidden response header name), so this runs
  // where responses can carry it: Node, Deno, Bun, the runtimes that serve.
  const headersKeepSetCookie = new Response('', { headers: [['Set-Cookie', 'a=1']] }).headers.has('set-cookie');
  it.skipIf(!headersKeepSetCookie)('drops the fields that describe the connection or the framing, and writes each Set-Cookie apart', async () => {
    const headers = new Headers([
      ['Connection', 'keep-alive'],
      ['Keep-Alive', 'timeout=5'],
      ['Transfer-Encoding', 'chunked'],
      ['Content-Length', '999'],
      ['Upgrade', 'h2c'],
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2; Path=/'],
    ]);
    // A byte body: no Content-Type is implied (runtimes differ on adding one for a string).
    const bytes = await text(new Response(new TextEncoder().encode('ok'), { headers }));
    expect(bytes).toBe('HTTP/1.1 200 OK\r\nset-cookie: a=1\r\nset-cookie: b=2; Path=/\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
  });

  it("answers HEAD without a body, stating the length the handler gave (a GET's), if any", async () => {
    expect(await text(new Response(null, { headers: { 'Content-Length': '4' } }), 'HEAD')).toBe(
      'HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\n',
    );
    expect(await text(new Response(new TextEncoder().encode('four')), 'HEAD')).toBe('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n');
  });

  it('writes neither a body nor Content-Length for 204 and 304 (RFC 9110 §8.6)', async () => {
    expect(await text(new Response(null, { status: 204 }))).toBe('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n');
    expect(await text(new Response(null, { status: 304 }))).toBe('HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n');
  });

  it('writes binary bodies byte for byte', async () => {
    const body = new Uint8Array([0, 255, 13, 10]);
    const bytes = await serializeResponse(new Response(body), 'GET');
    expect([...bytes.subarray(bytes.length - 4)]).toEqual([0, 255, 13, 10]);
  });

  it('takes any response-shaped object', async () => {
    const like: ResponseLike = {
      status: 404,
      statusText: '',
      headers: new Headers({ 'X-A': 'b' }),
      body: null,
      arrayBuffer: () => Promise.resolve(new TextEncoder().encode('gone').buffer as ArrayBuffer),
    };
    expect(await text(like)).toBe('HTTP/1.1 404 Not Found\r\nx-a: b\r\nContent-Length: 4\r\nConnection: close\r\n\r\ngone');
  });

  it('refuses a field value HTTP/1.1 cannot carry with a TypeError', async () => {
    await expect(serializeResponse(new Response('x', { headers: { 'X-Name': 'Zoë' } }), 'GET')).rejects.toThrow(TypeError);
  });
});

describe('ReasonPhrase', () => {
  it.each([
    [200, 'OK'],
    [201, 'Created'],
    [204, 'No Content'],
    [304, 'Not Modified'],
    [404, 'Not Found'],
    [411, 'Length Required'],
    [413, 'Content Too Large'],
  ] as const)('%d is %j (RFC 9110 §15)', (status, phrase) => {
    expect(ReasonPhrase[status]).toBe(phrase);
    expect(serializeResponseHead({ status })).toBe(`HTTP/1.1 ${status} ${phrase}\r\n\r\n`);
  });
});
