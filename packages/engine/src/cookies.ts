/**
 * The `Cookie` request field as a record, for the upgrade hook (the browser sends its
 * cookies with the handshake; they are how most apps authenticate a WebSocket).
 * @module
 */

/**
 * Parses `Cookie` field values (`name=value; name2=value2`, possibly several fields) into a
 * record. Leniently, as servers do: pairs without `=` or with an empty name are skipped,
 * whitespace around names and values is trimmed, one pair of surrounding double quotes is
 * removed, the first occurrence of a name wins, and values are not percent-decoded.
 *
 * @example
 * ```ts
 * parseCookies('session=abc123; theme="dark"'); // { session: 'abc123', theme: 'dark' }
 * ```
 */
export function parseCookies(header: string | readonly string[] | undefined): Record<string, string> {
  const cookies: Record<string, string> = Object.create(null) as Record<string, string>;
  if (header === undefined) return cookies;
  const fields = typeof header === 'string' ? [header] : header;
  for (const field of fields) {
    for (const pair of field.split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      if (name === '' || name in cookies) continue;
      let value = pair.slice(eq + 1).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      cookies[name] = value;
    }
  }
  return cookies;
}
