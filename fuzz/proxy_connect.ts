/**
 * Fuzz target `proxy_connect`: a proxy's answer to `CONNECT`, read as a client reads it (the
 * response head parser, then `checkConnectResponse`).
 *
 * Octet 0 cuts the rest into chunks; the rest is what the proxy sent. Oracles:
 *  - only `HandshakeError` (a malformed head) and `ProxyError` leave it;
 *  - a tunnel is accepted exactly when the status is 2xx and nothing followed the head;
 *  - a refusal for another status carries that status, one for early bytes status 0.
 * @module
 */
import { HandshakeError } from '../packages/codec/src/errors.ts';
import { HttpHeadParser, type ResponseHead } from '../packages/codec/src/http_head.ts';
import { checkConnectResponse, ProxyError } from '../packages/codec/src/proxy_connect.ts';
import { chunkSizes, cut, FuzzInput } from './support/input.ts';
import { check, documented } from './support/oracle.ts';

const AUTHORITY = 'example.com:443';

export function fuzz(data: Uint8Array): void {
  const input = new FuzzInput(data);
  const seed = input.byte();
  const bytes = input.rest();
  const chunks = cut(bytes, chunkSizes(seed, bytes.length));
  const parser = new HttpHeadParser('response');
  for (const chunk of chunks) {
    const read = documented(() => parser.push(chunk), [HandshakeError]);
    if ('error' in read) return;
    if (read.value === null) continue;
    const head: ResponseHead = read.value.head;
    // The client reads no further once the head is whole: what came with it is early.
    const early = read.value.rest.length;
    const checked = documented(() => checkConnectResponse(head, early, AUTHORITY), [ProxyError]);
    const tunnel = head.status >= 200 && head.status <= 299 && early === 0;
    check(('value' in checked) === tunnel, `status ${head.status} with ${early} early octets: ${'value' in checked ? 'tunnel opened' : 'refused'}`);
    if ('error' in checked) {
      const { status } = checked.error as ProxyError;
      check(status === (head.status >= 200 && head.status <= 299 ? 0 : head.status), `refusal of status ${head.status} carries ${status}`);
    }
    return;
  }
}
