// The body length of a plain HTTP request read for a fetch-style fallback: Content-Length only.
import { describe, expect, it } from 'vitest';
import { HandshakeError } from '@wsflow/codec';
import { parseRequestHead, type RequestHead } from '@wsflow/codec';
import { requestBodyLength } from '../src/request_body.ts';

function head(...fields: string[]): RequestHead {
  const parsed = parseRequestHead(new TextEncoder().encode(['POST /form HTTP/1.1', 'Host: a', ...fields, '', ''].join('\r\n')));
  if (parsed === null) throw new Error('incomplete head');
  return parsed.head;
}

function refusal(request: RequestHead, max = 100): unknown {
  try {
    requestBodyLength(request, max);
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('requestBodyLength', () => {
  it('is the Content-Length, 0 without one, up to the limit', () => {
    expect(requestBodyLength(head('Content-Length: 8'), 100)).toBe(8);
    expect(requestBodyLength(head('Content-Length: 100'), 100)).toBe(100);
    expect(requestBodyLength(head(), 100)).toBe(0);
  });

  it('refuses a chunked (or any transfer-coded) body with 411 Length Required', () => {
    const error = refusal(head('Transfer-Encoding: chunked'));
    expect(error).toBeInstanceOf(HandshakeError);
    expect(error).toMatchObject({ status: 411, message: 'Send the request body with a Content-Length' });
  });

  it.each(['-1', '1.5', '0x10', '8, 8', '1234567890123456'])('refuses Content-Length %j with 400', (value) => {
    expect(refusal(head(`Content-Length: ${value}`))).toMatchObject({ status: 400, code: 'MALFORMED_HEAD' });
  });

  it('refuses a body over the limit with 413', () => {
    expect(refusal(head('Content-Length: 101'))).toMatchObject({ status: 413, message: 'The request body exceeds 100 bytes' });
  });
});
