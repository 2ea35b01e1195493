/**
 * The subprotocol list of the `WebSocket` and `WebSocketStream` constructors.
 * @module
 */
import { isToken } from '@wsflow/codec';
import { isObject, toDOMString } from './webidl.ts';

/**
 * Converts the constructor's `protocols` argument, Web IDL `(DOMString or
 * sequence<DOMString>)`: an iterable object is a sequence (each item a DOMString), anything
 * else one DOMString; `undefined` is the default, the empty list. Note that `null` is the
 * string `"null"`, as in browsers.
 *
 * @example
 * ```ts
 * toProtocolList('chat');          // ['chat']
 * toProtocolList(['a', 'b']);      // ['a', 'b']
 * toProtocolList(undefined);       // []
 * ```
 */
export function toProtocolList(protocols: unknown): string[] {
  if (protocols === undefined) return [];
  if (isObject(protocols) && typeof (protocols as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function') {
    return Array.from(protocols as Iterable<unknown>, toDOMString);
  }
  // "If protocols is a string, set protocols to a sequence consisting of just that string."
  return [toDOMString(protocols)];
}

/**
 * "If any of the values in protocols occur more than once or otherwise fail to match the
 * requirements for elements that comprise the value of `Sec-WebSocket-Protocol` fields as
 * defined by The WebSocket protocol, then throw a "SyntaxError" DOMException."
 *
 * The elements are tokens (RFC 6455 §4.1 item 10, §11.3.4). Repeats are compared
 * ASCII case-insensitively, as browsers do (web-platform-tests
 * `websockets/Create-protocols-repeated-case-insensitive`).
 *
 * @throws {DOMException} "SyntaxError"
 * @example
 * ```ts
 * validateProtocolList(['chat', 'CHAT']); // throws SyntaxError
 * validateProtocolList(['a b']);          // throws SyntaxError: not a token
 * ```
 */
export function validateProtocolList(protocols: readonly string[]): void {
  const seen = new Set<string>();
  for (const protocol of protocols) {
    if (!isToken(protocol)) {
      throw new DOMException(`The subprotocol ${JSON.stringify(protocol)} is invalid.`, 'SyntaxError');
    }
    const folded = protocol.replace(/[A-Z]/g, (c) => c.toLowerCase());
    if (seen.has(folded)) {
      throw new DOMException(`The subprotocol ${JSON.stringify(protocol)} is duplicated.`, 'SyntaxError');
    }
    seen.add(folded);
  }
}
