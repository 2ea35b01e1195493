/**
 * The small part of Bun's API this shim uses, typed here (the `bun-types` package is not a
 * dependency), and {@link bunRuntime}, which finds it on `globalThis`. Nothing is declared
 * globally, so these types live beside Node's or Deno's in one type-check.
 *
 * Semantics this shim relies on (checked against Bun 1.4, see the package tests):
 * - `write()` returns how many bytes the kernel (or TLS layer) took, possibly fewer than
 *   given, 0 when its buffer is full or a TLS handshake is still under way, -1 once the
 *   socket is closed. Bun queues nothing: the caller keeps the remainder and writes it on
 *   `drain`.
 * - `data` hands over a fresh buffer on every call (with `binaryType: 'uint8array'`, a plain
 *   `Uint8Array` owning its whole `ArrayBuffer`), never reused.
 * - `end()` closes the socket outright (and drops bytes the kernel has not taken);
 *   `shutdown()` sends FIN only. With `allowHalfOpen: true` a peer's FIN is reported by
 *   `end` and the socket stays writable; once both sides sent FIN, Bun closes it.
 * - `terminate()` resets the connection (RST).
 * - `Bun.connect` with `tls` resolves at TCP connect, before the TLS handshake; the
 *   `handshake` handler reports its outcome. An empty `tls: {}` dials plain TCP. Pausing a TLS socket before its handshake
 *   completes stalls the handshake.
 * @module
 */

/** Certificate, key or CA material in any form Bun accepts (`Bun.file()` is a `Blob`). */
export type TlsData = string | ArrayBufferView | Blob;

/** TLS settings of `Bun.listen`, `Bun.connect` and `socket.upgradeTLS` (the subset typed here). */
export interface BunTlsOptions {
  /** PEM private key(s). */
  key?: TlsData | TlsData[];
  /** PEM certificate chain(s). */
  cert?: TlsData | TlsData[];
  /** Trusted CA certificates (replace the bundled roots). */
  ca?: TlsData | TlsData[];
  /** Passphrase of an encrypted key. */
  passphrase?: string;
  /** Client: the SNI name and the name the certificate must match. */
  serverName?: string;
  /** Client: refuse a certificate that does not verify. Bun's default: true. */
  rejectUnauthorized?: boolean;
  /** Server: ask clients for a certificate. */
  requestCert?: boolean;
  /** Diffie-Hellman parameters file. */
  dhParamsFile?: string;
  /** Cipher list, OpenSSL syntax. */
  ciphers?: string;
  /** ALPN protocols to offer or accept. */
  ALPNProtocols?: string | ArrayBufferView;
}

/** A connected Bun TCP or TLS socket (`Socket<Data>` in bun-types). */
export interface BunSocket<Data = unknown> {
  /** Per-socket data, free for the owner. */
  data: Data;
  /** Writes bytes: @returns the bytes taken (maybe fewer), or -1 when closed. */
  write(data: string | Uint8Array, byteOffset?: number, byteLength?: number): number;
  /** Closes the socket (not a half-close: see the module notes). */
  end(): number;
  /** Sends FIN (half-close) while still reading. */
  shutdown(halfClose?: boolean): void;
  /** Resets the connection at once. */
  terminate(): void;
  /** Stops reading from the socket. */
  pause(): void;
  /** Reads from the socket again. */
  resume(): void;
  /** Turns Nagle's algorithm off (true) or on. */
  setNoDelay(noDelay?: boolean): boolean;
  /** Starts TLS on this socket: @returns the raw socket and the TLS socket, in this order. */
  upgradeTLS<TlsDataT>(options: { data?: TlsDataT; tls: BunTlsOptions | boolean; socket: BunSocketHandler<TlsDataT> }): [BunSocket<unknown>, BunSocket<TlsDataT>];
  /** The peer's IP address. */
  readonly remoteAddress: string;
  /** Negative once closed. */
  readonly readyState: number;
  /** TLS: whether the peer's certificate verified. */
  readonly authorized?: boolean;
}

/** Socket event handlers, shared by every socket of a listener or connect call. */
export interface BunSocketHandler<Data = unknown> {
  /** The form `data` hands bytes over in; default `'buffer'` (Node Buffers). */
  binaryType?: 'buffer' | 'arraybuffer' | 'uint8array';
  open?(socket: BunSocket<Data>): void;
  data?(socket: BunSocket<Data>, data: Uint8Array): void;
  drain?(socket: BunSocket<Data>): void;
  /** The peer sent FIN. */
  end?(socket: BunSocket<Data>): void;
  close?(socket: BunSocket<Data>, error?: Error): void;
  error?(socket: BunSocket<Data>, error: Error): void;
  /** TLS: the handshake finished; `success` false when the peer's certificate was refused. */
  handshake?(socket: BunSocket<Data>, success: boolean, authorizationError: Error | null): void;
  connectError?(socket: BunSocket<Data>, error: Error): void;
  timeout?(socket: BunSocket<Data>): void;
}

/** Options of `Bun.listen` (TCP). */
export interface BunListenOptions<Data> {
  hostname: string;
  port: number;
  tls?: BunTlsOptions;
  /** `SO_REUSEPORT`: share the port with other listeners (Linux load-balances across them). */
  reusePort?: boolean;
  allowHalfOpen?: boolean;
  socket: BunSocketHandler<Data>;
}

/** Options of `Bun.connect` (TCP). */
export interface BunConnectOptions<Data> {
  hostname: string;
  port: number;
  tls?: BunTlsOptions | boolean;
  allowHalfOpen?: boolean;
  data?: Data;
  socket: BunSocketHandler<Data>;
}

/** A listening `Bun.listen` server. */
export interface BunListener {
  readonly port: number;
  readonly hostname: string;
  /** Stops accepting; with `true` also closes every open socket. */
  stop(closeActiveConnections?: boolean): void;
  ref(): void;
  unref(): void;
}

/** The `Bun` global, as far as this shim uses it. */
export interface BunApi {
  readonly version: string;
  listen<Data>(options: BunListenOptions<Data>): BunListener;
  connect<Data>(options: BunConnectOptions<Data>): Promise<BunSocket<Data>>;
  /** The process environment. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** A new buffer whose octets are not zeroed (the caller writes every one). */
  allocUnsafe(size: number): Uint8Array;
}

/** Globals of the Bun runtime beyond the web platform's. */
export interface BunGlobals {
  Bun?: BunApi;
  setImmediate?: (callback: () => void) => unknown;
}

/**
 * The `Bun` global.
 * @throws {TypeError} when not running in Bun.
 * @example
 * ```ts
 * const listener = bunRuntime().listen({ hostname: '127.0.0.1', port: 0, socket: handlers });
 * ```
 */
export function bunRuntime(): BunApi {
  const bun = (globalThis as BunGlobals).Bun;
  if (bun === undefined) throw new TypeError('@wsflow/bun needs the Bun runtime (globalThis.Bun is missing)');
  return bun;
}

