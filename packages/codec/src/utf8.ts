/**
 * UTF-8 validation for text messages and close reasons (RFC 6455 §5.6, §8.1).
 *
 * Built on the WHATWG `TextDecoder` in fatal mode, which rejects exactly what RFC 3629
 * rejects (overlongs, surrogates, code points above U+10FFFF, truncated sequences) and,
 * in streaming mode, reports an invalid octet as soon as it is fed: a message is
 * failed on its first invalid byte even when that byte sits in the middle of a
 * fragment or of a network chunk (RFC 6455 §8.1 "fail fast").
 * @module
 */
import { CloseCode } from './constants.ts';
import { ProtocolError } from './errors.ts';

function invalid(): ProtocolError {
  return new ProtocolError('INVALID_UTF8', 'invalid UTF-8 in text data', CloseCode.InvalidPayload);
}

/**
 * An incremental UTF-8 decoder that throws a 1007 {@link ProtocolError} on the first
 * invalid octet. One instance decodes one message at a time; after a message's last
 * piece (`final = true`) it is ready for the next.
 *
 * @example
 * ```ts
 * const d = new Utf8Decoder();
 * d.decode(new Uint8Array([0xe2, 0x82]), false); // '' (sequence incomplete, so far valid)
 * d.decode(new Uint8Array([0xac]), true);        // '€'
 * ```
 */
export class Utf8Decoder {
  // ignoreBOM: a leading U+FEFF is message content, not a byte order mark to strip.
  readonly #decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

  /**
   * Decodes the next piece of a message.
   * @param bytes the octets received
   * @param final true for the message's last piece: an incomplete trailing sequence is then an error
   * @throws ProtocolError with close code 1007 on invalid UTF-8
   */
  decode(bytes: Uint8Array, final: boolean): string {
    try {
      return final ? this.#decoder.decode(bytes) : this.#decoder.decode(bytes, { stream: true });
    } catch {
      // Leave the decoder clean for whoever inspects it next; the connection is failing anyway.
      try {
        this.#decoder.decode();
      } catch {
        /* reset only */
      }
      throw invalid();
    }
  }
}

const shared = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes a complete UTF-8 byte sequence, throwing a 1007 {@link ProtocolError} if it is invalid.
 *
 * @example
 * ```ts
 * decodeUtf8(new Uint8Array([0x48, 0x69])); // 'Hi'
 * ```
 */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return shared.decode(bytes);
  } catch {
    throw invalid();
  }
}

/** Whether `bytes` is well-formed UTF-8 (RFC 3629). */
export function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    shared.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

const encoder = new TextEncoder();

/** Encodes a string as UTF-8; lone surrogates become U+FFFD, as the WHATWG encoder does. */
export function encodeUtf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** @internal The shared encoder, for callers that use `encodeInto` on their own buffers. */
export const utf8Encoder: TextEncoder = encoder;
