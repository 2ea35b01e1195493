/**
 * Fuzz target `http_head`: the incremental HTTP/1.1 head parser (`HttpHeadParser`) reading a
 * request (server role) or a response (client role), with small limits so inputs reach them.
 *
 * Octet 0: bit 0 picks request (0) or response (1), the other bits how the rest is cut into
 * chunks. Oracles:
 *  - only `HandshakeError` leaves the parser, with a status it documents (400, 431, 505);
 *  - the same octets cut into different chunks give the same head, the same error, or both
 *    an incomplete head;
 *  - a head never takes more than `maxHeadSize` octets; what follows it is handed back whole;
 *  - a parsed head is well formed: field names are tokens, values carry no control
 *    character but HTAB and no leading or trailing blank, `headers` combines `rawHeaders`
 *    (RFC 9110 §5.3), a status is 100–599;
 *  - a request head whose fields the serializer accepts serializes and parses back the same.
 * @module
 */
import { HandshakeError } from '../packages/codec/src/errors.ts';
import { isToken } from '../packages/codec/src/header_grammar.ts';
import { type HttpHeadKind, HttpHeadParser, type RequestHead, type ResponseHead, serializeRequestHead, serializeResponseHead } from '../packages/codec/src/http_head.ts';
import { chunkSizes, cut, FuzzInput } from './support/input.ts';
import { check, hex, sameData } from './support/oracle.ts';

const OPTIONS = { maxHeadSize: 1024, maxHeaders: 16 } as const;

type Outcome = { head: unknown; consumed: number; rest: string } | { error: string; status: number } | { incomplete: true };

function parse(kind: HttpHeadKind, chunks: readonly Uint8Array[]): Outcome {
  const parser = new HttpHeadParser(kind, OPTIONS);
  let consumedBefore = 0;
  for (let i = 0; i < chunks.length; i++) {
    let result;
    try {
      result = parser.push(chunks[i]);
    } catch (error) {
      if (!(error instanceof HandshakeError)) throw error;
      check([400, 431, 505].includes(error.status), `${error.code} with status ${error.status}`);
      return { error: error.code, status: error.status };
    }
    if (result === null) {
      consumedBefore += chunks[i].length;
      continue;
    }
    check(result.bytesConsumed <= OPTIONS.maxHeadSize, `a head of ${result.bytesConsumed} octets passed maxHeadSize`);
    check(result.bytesConsumed - consumedBefore + result.rest.length === chunks[i].length, 'bytesConsumed and rest do not add up to the chunk');
    const after = [result.rest, ...chunks.slice(i + 1)];
    const head = result.head;
    checkWellFormed(kind, head);
    return { head: { ...head, headers: [...head.headers] }, consumed: result.bytesConsumed, rest: after.map(hex).join('') };
  }
  return { incomplete: true };
}

function checkWellFormed(kind: HttpHeadKind, head: RequestHead | ResponseHead): void {
  const combined = new Map<string, string>();
  for (const [name, value] of head.rawHeaders) {
    check(isToken(name), `field name ${JSON.stringify(name)} is not a token`);
    check(!/[\x00-\x08\x0a-\x1f\x7f]/.test(value), `field value ${JSON.stringify(value)} holds a control character`);
    check(!/^[ \t]|[ \t]$/.test(value), `field value ${JSON.stringify(value)} is not trimmed`);
    const key = name.toLowerCase();
    const previous = combined.get(key);
    combined.set(key, previous === undefined ? value : `${previous}, ${value}`);
  }
  check(sameData([...combined], [...head.headers]), 'headers is not rawHeaders combined');
  if (head.kind === 'response') {
    check(kind === 'response' && Number.isInteger(head.status) && head.status >= 100 && head.status <= 599, `status ${head.status}`);
    roundTrip(kind, head, () => serializeResponseHead({ status: head.status, reason: head.reason, headers: head.rawHeaders }));
  } else {
    check(kind === 'request' && isToken(head.method) && head.target !== '', 'request line');
    roundTrip(kind, head, () => serializeRequestHead({ method: head.method, target: head.target, headers: head.rawHeaders }));
  }
}

/** What the serializer accepts (it refuses some values a peer may send) parses back the same. */
function roundTrip(kind: HttpHeadKind, head: object, serialize: () => string): void {
  let text: string;
  try {
    text = serialize();
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) return;
    throw error;
  }
  const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0));
  const again = new HttpHeadParser(kind, { maxHeadSize: bytes.length + 1, maxHeaders: 1000 }).push(bytes);
  check(again !== null && sameData({ ...again.head, headers: [...again.head.headers] }, { ...head, headers: [...(head as { headers: Map<string, string> }).headers] }), `head does not survive serializing: ${JSON.stringify(text)}`);
}

export function fuzz(data: Uint8Array): void {
  const input = new FuzzInput(data);
  const control = input.byte();
  const kind: HttpHeadKind = (control & 1) === 0 ? 'request' : 'response';
  const bytes = input.rest();
  const whole = parse(kind, [bytes]);
  const split = parse(kind, cut(bytes, chunkSizes(control >> 1, bytes.length)));
  check(sameData(whole, split), `${kind}: a different outcome when cut into chunks:\n  whole: ${JSON.stringify(whole).slice(0, 300)}\n  split: ${JSON.stringify(split).slice(0, 300)}`);
}
