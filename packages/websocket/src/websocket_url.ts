/**
 * The URL steps shared by `WebSocket` and `WebSocketStream` (WebSockets Standard, "get a
 * URL record", and the constructors' "API base URL").
 * @module
 */

/**
 * The base URL relative URLs resolve against: the page's (`location.href`) where there is
 * one, else none. Deno without `--location` throws on any access to `location`.
 */
export function defaultBaseURL(): string | undefined {
  try {
    const href = (globalThis as { location?: { href?: unknown } }).location?.href;
    return typeof href === 'string' ? href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Maps an `http:` URL to `ws:` and an `https:` one to `wss:`, in place (WebSockets Standard,
 * "get a URL record", steps 3–4); any other scheme is left as it is, for the caller to accept
 * or refuse.
 * @example
 * ```ts
 * const url = new URL('https://example.com/chat');
 * useWebSocketScheme(url);
 * url.href; // 'wss://example.com/chat'
 * ```
 */
export function useWebSocketScheme(url: URL): void {
  // Both are special schemes, so the protocol setter accepts the change.
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
}

/**
 * Gets a URL record (WebSockets Standard, "get a URL record"), or null for failure:
 *
 * 1. Let urlRecord be the result of applying the URL parser to url with baseURL.
 * 2. If urlRecord is failure, then return failure.
 * 3. If urlRecord's scheme is "http", then set urlRecord's scheme to "ws".
 * 4. Otherwise, if urlRecord's scheme is "https", set urlRecord's scheme to "wss".
 * 5. If urlRecord's scheme is not "ws" or "wss", then return failure.
 * 6. If urlRecord's fragment is non-null, then return failure.
 * 7. Return urlRecord.
 *
 * The constructors throw a "SyntaxError" DOMException for failure.
 *
 * @example
 * ```ts
 * getURLRecord('/chat', 'https://example.com/app')?.href; // 'wss://example.com/chat'
 * getURLRecord('ws://example.com/#');                      // null: an empty fragment is non-null
 * ```
 */
export function getURLRecord(url: string, baseURL?: string | URL): URL | null {
  // Steps 1-2.
  let record: URL;
  try {
    record = baseURL === undefined ? new URL(url) : new URL(url, baseURL);
  } catch {
    return null;
  }
  // Steps 3-4.
  useWebSocketScheme(record);
  // Step 5.
  if (record.protocol !== 'ws:' && record.protocol !== 'wss:') return null;
  // Step 6: `hash` is '' both for no fragment and for an empty one; `href` tells them apart.
  if (record.hash !== '' || record.href.endsWith('#')) return null;
  // Step 7.
  return record;
}
