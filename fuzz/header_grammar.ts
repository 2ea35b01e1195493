/**
 * Fuzz target `header_grammar`: the `Sec-WebSocket-Extensions` and `Sec-WebSocket-Protocol`
 * parsers (RFC 6455 §9.1, §11.3.4), compared with `ws`'s parsers (`ws/lib/extension.js`,
 * `ws/lib/subprotocol.js`), an independent implementation.
 *
 * Octet 0 picks the header (even: extensions, odd: protocols); the rest is the value, as
 * Latin-1 and OWS-trimmed (how the head parser hands values over). Oracles:
 *  - only `HandshakeError` leaves the parser;
 *  - the same values are accepted as by `ws`, and they parse to the same elements;
 *  - what parses serializes, and that serialization parses back to the same elements.
 * @module
 */
import { HandshakeError } from '../packages/codec/src/errors.ts';
import {
  type ExtensionOffer,
  parseExtensionHeader,
  parseProtocolHeader,
  serializeExtensionHeader,
  serializeProtocolHeader,
} from '../packages/codec/src/header_grammar.ts';
import { FuzzInput } from './support/input.ts';
import { check, documented, sameData } from './support/oracle.ts';
import { latin1 } from './support/text.ts';
import { wsExtension, wsSubprotocol } from './support/ws.ts';

/** Our elements in `ws`'s shape: name -> one object per element, param -> its values. */
function wsShape(offers: readonly ExtensionOffer[]): unknown {
  const out: Record<string, Record<string, (string | true)[]>[]> = Object.create(null);
  for (const offer of offers) {
    const params: Record<string, (string | true)[]> = Object.create(null);
    for (const [name, value] of offer.params) (params[name] ??= []).push(value);
    (out[offer.name] ??= []).push(params);
  }
  return out;
}

function wsDecision<T>(parse: () => T): { value: T } | { error: Error } {
  try {
    return { value: parse() };
  } catch (error) {
    check(error instanceof SyntaxError, `ws threw ${String(error)}`);
    return { error };
  }
}

/**
 * The value without blanks around `,`, `;` and `=` outside quoted strings. RFC 6455 §9.1 is
 * written with RFC 2616's implied linear white space, which allows them everywhere between
 * tokens and separators: we accept `a = b`, `ws` does not accept a blank after `=`. Where
 * only such blanks make the difference, `ws` is asked about the value without them.
 */
function withoutBlanksAroundSeparators(value: string): string {
  let out = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted) {
      out += c;
      if (c === '\\' && i + 1 < value.length) out += value[++i];
      else if (c === '"') quoted = false;
    } else if (c === ' ' || c === '\t') {
      let j = i;
      while (j < value.length && (value[j] === ' ' || value[j] === '\t')) j++;
      const before = out.at(-1);
      const after = value[j];
      if (!(before === ',' || before === ';' || before === '=' || after === ',' || after === ';' || after === '=')) out += value.slice(i, j);
      i = j - 1;
    } else {
      if (c === '"') quoted = true;
      out += c;
    }
  }
  return out;
}

function extensions(value: string): void {
  const ours = documented(() => parseExtensionHeader(value), [HandshakeError]);
  let theirs = wsDecision(() => wsExtension.parse(value));
  if ('value' in ours && !('value' in theirs)) theirs = wsDecision(() => wsExtension.parse(withoutBlanksAroundSeparators(value)));
  check('value' in ours === 'value' in theirs, `extensions ${JSON.stringify(value)}: ours ${'value' in ours ? 'accepts' : 'rejects'}, ws ${'value' in theirs ? 'accepts' : 'rejects'}`);
  if (!('value' in ours) || !('value' in theirs)) return;
  check(sameData(wsShape(ours.value), theirs.value), `extensions ${JSON.stringify(value)}: ours ${JSON.stringify(ours.value)}, ws ${JSON.stringify(theirs.value)}`);
  const again = parseExtensionHeader(serializeExtensionHeader(ours.value));
  check(sameData(again, ours.value), `extensions ${JSON.stringify(value)} do not survive serializing`);
}

function protocols(value: string): void {
  const ours = documented(() => parseProtocolHeader(value), [HandshakeError]);
  const theirs = wsDecision(() => [...wsSubprotocol.parse(value)]);
  check('value' in ours === 'value' in theirs, `protocols ${JSON.stringify(value)}: ours ${'value' in ours ? 'accepts' : 'rejects'}, ws ${'value' in theirs ? 'accepts' : 'rejects'}`);
  if (!('value' in ours) || !('value' in theirs)) return;
  check(sameData(ours.value, theirs.value), `protocols ${JSON.stringify(value)}: ours ${JSON.stringify(ours.value)}, ws ${JSON.stringify(theirs.value)}`);
  check(sameData(parseProtocolHeader(serializeProtocolHeader(ours.value)), ours.value), `protocols ${JSON.stringify(value)} do not survive serializing`);
}

export function fuzz(data: Uint8Array): void {
  const input = new FuzzInput(data);
  const which = input.byte();
  // A field value reaches the parser with its leading and trailing OWS removed (RFC 9110
  // §5.5; the head parser trims it): `ws` rejects a leading blank, so neither sees one.
  const value = latin1(input.rest()).replace(/^[ \t]+|[ \t]+$/g, '');
  if ((which & 1) === 0) extensions(value);
  else protocols(value);
}
