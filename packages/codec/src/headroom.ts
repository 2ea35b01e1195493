/**
 * Headroom: received payloads whose own frame header lies right before them in a buffer
 * the connection owns. Sending such a payload back (an echo, a relay) can then write the
 * outgoing header into that space and hand header and payload to the transport as one
 * buffer: one write instead of two where the runtime has no `writev` (Deno, Bun).
 *
 * The frame parser marks a payload only when the input chunks were handed over
 * (`mutableInput`) and the payload is large; the mark is taken by the first send that
 * uses it, so a payload sent on several connections overwrites the space once.
 * @module
 */

const marked = new WeakSet<Uint8Array>();

/**
 * Marks `payload`: the octets before it in its buffer, as many as a masked frame header
 * for its length takes, belong to the connection and may be overwritten.
 * @internal
 */
export function markHeadroom(payload: Uint8Array): void {
  marked.add(payload);
}

/**
 * Whether `payload` (this very view) was marked; the mark is removed, so only one caller
 * gets `true`. An unmasked header for the same length is 4 octets shorter than the masked
 * one it replaces, so it always fits.
 * @internal
 */
export function takeHeadroom(payload: Uint8Array): boolean {
  return marked.delete(payload);
}
