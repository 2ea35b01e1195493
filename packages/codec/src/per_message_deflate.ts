/**
 * permessage-deflate on an open connection (RFC 7692 §6, §7.2): what one end does with the
 * agreement its handshake reached. It compresses the messages it sends and inflates the
 * ones it receives through an injected {@link DeflateEngine}, keeping or dropping the LZ77
 * context between messages as agreed.
 * @module
 */
import type { Role } from './constants.ts';
import type { DeflateEngine, MessageDeflater, MessageInflater } from './deflate_engine.ts';
import type { DeflateAgreement, DeflateNegotiationOptions } from './permessage_deflate_params.ts';

/** Compression settings of a connection's sending side. */
export interface DeflateSendOptions {
  /**
   * Messages smaller than this many octets are sent uncompressed: compressing them costs
   * more than it saves. Default 1024. A per-message `compress` option overrides it.
   */
  threshold?: number;
  /** zlib compression level, 0 to 9. Default 6 (zlib's default). */
  level?: number;
  /** zlib memory level, 1 to 9. Default 8 (zlib's default). */
  memLevel?: number;
}

/**
 * How a runtime shim's server or client negotiates and uses permessage-deflate: the
 * negotiation preferences plus the sending side's settings and, optionally, the engine
 * (each shim has a default: `node:zlib` on Node, Deno and Bun).
 *
 * @example
 * ```ts
 * serve({ port: 0, perMessageDeflate: { threshold: 256, level: 1, clientMaxWindowBits: 12 } }, onConnection);
 * ```
 */
export interface PerMessageDeflateOptions extends DeflateNegotiationOptions, DeflateSendOptions {
  /** The DEFLATE implementation. Default: the runtime shim's. */
  engine?: DeflateEngine;
  /**
   * Server: compress each published message once for every subscriber (as Bun's
   * `SHARED_COMPRESSOR`), by answering every offer with `server_no_context_takeover` (as
   * `serverNoContextTakeover: true` does). A message compressed without the history of the
   * ones before is one every peer with the same window inflates, so a publish to N
   * subscribers costs one compression instead of N, and no connection keeps a deflate
   * window (up to 256 KiB with zlib's defaults) between messages. The price is the ratio:
   * small messages that repeat what earlier ones said (JSON with the same keys) compress
   * much less without that history. Direct `send`s are compressed per connection as
   * always, without history too. Ignored by clients. Default false.
   *
   * @example
   * ```ts
   * serve({ perMessageDeflate: { sharedCompressor: true, threshold: 256 }, handler });
   * ```
   */
  sharedCompressor?: boolean;
}

/**
 * Checks the sending-side settings.
 * @throws RangeError naming the setting, for a value out of range
 */
export function checkDeflateSendOptions(options: DeflateSendOptions): void {
  const { threshold, level, memLevel } = options;
  if (threshold !== undefined && !(Number.isInteger(threshold) && threshold >= 0)) {
    throw new RangeError(`perMessageDeflate.threshold must be a non-negative integer, got ${String(threshold)}`);
  }
  if (level !== undefined && !(Number.isInteger(level) && level >= 0 && level <= 9)) {
    throw new RangeError(`perMessageDeflate.level must be an integer from 0 to 9, got ${String(level)}`);
  }
  if (memLevel !== undefined && !(Number.isInteger(memLevel) && memLevel >= 1 && memLevel <= 9)) {
    throw new RangeError(`perMessageDeflate.memLevel must be an integer from 1 to 9, got ${String(memLevel)}`);
  }
}

/**
 * One end's permessage-deflate state: a deflater for what it sends and an inflater for
 * what it receives, each made on first use (an idle connection holds neither).
 *
 * @example
 * ```ts
 * const pmd = new PerMessageDeflate('server', agreement, zlibEngine, { threshold: 0 });
 * const payload = pmd.compress(bytes);     // null: send uncompressed
 * const bytes2 = pmd.decompress(payload2, 1 << 20);
 * ```
 */
export class PerMessageDeflate {
  /** The negotiated parameters. */
  readonly agreement: DeflateAgreement;
  readonly #role: Role;
  readonly #engine: DeflateEngine;
  readonly #threshold: number;
  readonly #level: number;
  readonly #memLevel: number;
  /** Whether our deflater can honour the window the peer allows us (else we never compress). */
  readonly #canCompress: boolean;
  #deflater: MessageDeflater | null = null;
  #inflater: MessageInflater | null = null;

  /**
   * @param role which end this is: the client's sending side follows the `client_*` parameters
   * @param agreement what the handshake negotiated
   * @param engine the DEFLATE implementation
   * @param options the sending side's settings
   * @throws RangeError for settings out of range
   */
  constructor(role: Role, agreement: DeflateAgreement, engine: DeflateEngine, options: DeflateSendOptions = {}) {
    checkDeflateSendOptions(options);
    this.#role = role;
    this.agreement = agreement;
    this.#engine = engine;
    this.#threshold = options.threshold ?? 1024;
    this.#level = options.level ?? 6;
    this.#memLevel = options.memLevel ?? 8;
    this.#canCompress = this.#sendWindowBits >= (engine.minDeflateWindowBits ?? 8);
  }

  get #sendWindowBits(): number {
    return this.#role === 'client' ? this.agreement.clientMaxWindowBits : this.agreement.serverMaxWindowBits;
  }

  /**
   * The window bits of our sending side when it resets its context after every message
   * (`server_no_context_takeover` for a server): a message compressed by any such deflater
   * with this window is one any such peer inflates, so it can be compressed once for all
   * of them. Null with context takeover (each message depends on the ones before).
   */
  get sharedWindowBits(): number | null {
    const agreement = this.agreement;
    const reset = this.#role === 'client' ? agreement.clientNoContextTakeover : agreement.serverNoContextTakeover;
    return reset ? this.#sendWindowBits : null;
  }

  /** The octets below which a message goes uncompressed unless asked otherwise. */
  get threshold(): number {
    return this.#threshold;
  }

  /**
   * Whether a message of `size` octets should be compressed: `force` true or false decides;
   * otherwise the threshold does. Never when our engine cannot honour the agreed window
   * (RFC 7692 §6: an endpoint may always send a message uncompressed).
   */
  shouldCompress(size: number, force: boolean | undefined): boolean {
    if (!this.#canCompress || force === false) return false;
    return force === true || size >= this.#threshold;
  }

  /**
   * Compresses one whole message (RFC 7692 §7.2.1): the payload of a frame with RSV1 set.
   * @throws Error when the engine fails
   */
  compress(data: Uint8Array): Uint8Array {
    const agreement = this.agreement;
    const deflater = (this.#deflater ??= this.#engine.createDeflater({
      windowBits: this.#sendWindowBits,
      noContextTakeover: this.#role === 'client' ? agreement.clientNoContextTakeover : agreement.serverNoContextTakeover,
      level: this.#level,
      memLevel: this.#memLevel,
    }));
    return deflater.deflate(data);
  }

  /**
   * Inflates one whole compressed message (RFC 7692 §7.2.2), stopping past `maxOutput` octets.
   * @throws InflateLimitError past `maxOutput`; Error for data that is not valid DEFLATE
   */
  decompress(data: Uint8Array, maxOutput: number): Uint8Array {
    const agreement = this.agreement;
    const inflater = (this.#inflater ??= this.#engine.createInflater({
      windowBits: this.#role === 'client' ? agreement.serverMaxWindowBits : agreement.clientMaxWindowBits,
      noContextTakeover: this.#role === 'client' ? agreement.serverNoContextTakeover : agreement.clientNoContextTakeover,
    }));
    return inflater.inflate(data, maxOutput);
  }

  /** Frees the deflater and inflater; a later message would make new ones. */
  dispose(): void {
    this.#deflater?.dispose();
    this.#inflater?.dispose();
    this.#deflater = this.#inflater = null;
  }
}
