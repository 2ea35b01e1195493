/**
 * A request's field lines (`[name, value]` pairs in order, as a parsed head's `rawHeaders`
 * or a runtime's raw headers) as the WHATWG `Headers` that upgrade hooks and fetch-style
 * handlers see, and the separate values of one field.
 * @module
 */

/**
 * The field lines as WHATWG `Headers`, repeated fields kept in order. A field `Headers`
 * refuses (the head parser is stricter, so none in practice) is left out.
 *
 * @example
 * ```ts
 * headersOf(head.rawHeaders).get('sec-websocket-protocol'); // 'chat, superchat'
 * ```
 */
export function headersOf(fields: Iterable<readonly [string, string]>): Headers {
  const headers = new Headers();
  for (const [name, value] of fields) {
    try {
      headers.append(name, value);
    } catch {
      /* a field WHATWG Headers refuses: left out */
    }
  }
  return headers;
}

/**
 * The values of every field line named `name` (case-insensitively), in order, each kept
 * apart: what `parseCookies` needs, since `Cookie` values must not be joined with commas.
 *
 * @example
 * ```ts
 * fieldValues([['Cookie', 'a=1'], ['cookie', 'b=2']], 'cookie'); // ['a=1', 'b=2']
 * ```
 */
export function fieldValues(fields: Iterable<readonly [string, string]>, name: string): string[] {
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (const [field, value] of fields) if (field.toLowerCase() === wanted) values.push(value);
  return values;
}
