/**
 * The client engine: everything `connect()` does between a URL and an open connection,
 * written once for every runtime. It parses the URL and builds the request (the codec's
 * RFC 6455 §4.1 rules), picks the proxy (the option, or the environment), runs the whole
 * handshake under one deadline (the caller's `signal` too), has the runtime dial (through
 * the proxy and TLS: socket work), sends the request, reads and checks the response, and
 * binds the connection. The runtime gives only {@link ClientAdapter.dial}.
 * @module
 */
import { ClientHandshake, clientDeflateOffers, resolveDeflate, type HeaderFieldsInit } from '@wsflow/codec';
import { HandshakeDeadline } from './handshake_deadline.ts';
import { checkTimeout, connectionOptionsOf, type ConnectionSettings } from './shim_settings.ts';
import { parseProxyUrl } from './proxy_env.ts';
import type { EngineSocket, RuntimeAdapter } from './engine_socket.ts';
import { HeadReader } from './head_reader.ts';
import { bindConnection, type PendingConnection } from './pending_connection.ts';
import { checkKnownOptions, DEFAULT_HANDSHAKE_TIMEOUT } from './server_options.ts';

/** The options of `connect()` on every runtime (a runtime adds its TLS options). */
export interface ClientOptions extends ConnectionSettings {
  /** Subprotocols to offer, in order of preference. With some offered, a server that selects none fails the handshake (as WHATWG `WebSocket` does). */
  protocols?: string | readonly string[];
  /** Extra request fields (not the WebSocket ones, which the client writes itself). */
  headers?: HeaderFieldsInit;
  /** An `Origin` to send (browsers always send one; other clients need not). */
  origin?: string;
  /**
   * An HTTP proxy (`http://` or `https://` URL) to tunnel through with `CONNECT`, or
   * `false` for none. Default: from the environment (`HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY`).
   */
  proxy?: string | URL | false;
  /** Aborts the handshake (dial, proxy, TLS, response) when it aborts. */
  signal?: AbortSignal;
  /** The largest response head, in bytes. Default 16 KiB. */
  maxHeadSize?: number;
}

/** The names of {@link ClientOptions}, for the unknown-option check. */
export const CLIENT_OPTION_NAMES: readonly string[] = [
  'protocols', 'headers', 'origin', 'proxy', 'signal', 'maxHeadSize',
  'maxPayload', 'maxMessage', 'maxFragments', 'maxBufferedAmount', 'bufferedAmountPolicy',
  'handshakeTimeout', 'closeTimeout', 'heartbeat', 'readableHighWaterMark', 'writableHighWaterMark', 'perMessageDeflate',
];

/** Where the runtime is to dial. */
export interface DialTarget {
  /** The server's host name or IP address (IPv6 without brackets). */
  host: string;
  /** The server's port. */
  port: number;
  /** Whether to speak TLS to the server (`wss:`), with `host` for SNI and the certificate. */
  secure: boolean;
  /** A proxy to tunnel through with `CONNECT` first, or `null`. */
  proxy: URL | null;
  /** Aborts a dial under way (the handshake's deadline). */
  signal: AbortSignal;
}

/** What the client engine needs of a runtime. */
export interface ClientAdapter<TlsOptions> extends RuntimeAdapter {
  /**
   * Opens a byte stream to the target: TCP, through the proxy's tunnel when there is one,
   * then TLS when secure. Every socket opened on the way goes to `track` at once (so the
   * deadline can close it). The socket returned is held: it reads once a receiver is set
   * and it is released.
   */
  dial(target: DialTarget, tls: TlsOptions, track: (close: () => void) => void): Promise<EngineSocket>;
  /** The proxy the environment names for `url`, or `null`. */
  proxyFromEnvironment(url: URL): URL | null;
}

/**
 * Runs a client handshake: resolves with the connection, not reading yet (call `start()`),
 * or rejects with the codec's `HandshakeError`, a `ProxyError`, the dial's error, a
 * `TimeoutError` or the caller's abort reason.
 *
 * @throws TypeError (rejects) for an unknown option (naming it), SyntaxError for a bad URL
 * @example
 * ```ts
 * const pending = await openClient('ws://127.0.0.1:8080/', {}, adapter, {}, 'connect', ['tls']);
 * pending.connection.onmessage = (data) => console.log(data);
 * pending.start();
 * ```
 */
export async function openClient<TlsOptions>(
  url: string | URL,
  options: ClientOptions,
  adapter: ClientAdapter<TlsOptions>,
  tls: TlsOptions,
  where = 'connect',
  extra: readonly string[] = [],
): Promise<PendingConnection> {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object`);
  checkKnownOptions(where, options, [...CLIENT_OPTION_NAMES, ...extra]);
  const deflate = resolveDeflate(options.perMessageDeflate, adapter.deflateEngine);
  // The codec decides on the bytes; this engine dials, moves them and binds the connection.
  const handshake = new ClientHandshake({
    url,
    protocols: options.protocols,
    headers: options.headers,
    origin: options.origin,
    extensions: clientDeflateOffers(deflate),
    maxHeadSize: options.maxHeadSize,
    sha1: adapter.sha1,
  });
  const client = handshake.request;
  const timeout = checkTimeout('handshakeTimeout', options.handshakeTimeout, DEFAULT_HANDSHAKE_TIMEOUT);
  const proxy = options.proxy === false ? null : options.proxy !== undefined ? parseProxyUrl(options.proxy) : adapter.proxyFromEnvironment(client.url);
  options.signal?.throwIfAborted();

  // The timeout or the caller's abort stops the handshake and closes every socket opened for it.
  const deadline = HandshakeDeadline.forClient(timeout, adapter.timers, options.signal);
  return deadline.guard(
    (close: () => void) => close(),
    async (track) => {
      const socket = await adapter.dial({ host: client.hostname, port: client.port, secure: client.secure, proxy, signal: deadline.signal }, tls, track);
      track(() => socket.destroy());
      const reader = new HeadReader(socket, (chunk) => handshake.receive(chunk), 'response');
      socket.write(handshake.bytes);
      const decision = await reader.head;
      if (decision.kind === 'refuse') throw decision.error;
      deadline.signal.throwIfAborted();
      const connectionOptions = connectionOptionsOf(options, {
        role: 'client',
        protocol: decision.protocol,
        extensions: decision.extensionHeader,
        deflateAgreement: decision.deflate,
        timers: adapter.timers,
        mutableInput: adapter.mutableInput,
        deflateEngine: adapter.deflateEngine,
      });
      if (adapter.allocate !== undefined) connectionOptions.allocate = adapter.allocate;
      return bindConnection(socket, connectionOptions, reader);
    },
  );
}
