/**
 * The part of the `Deno` namespace this package uses, declared for `tsc` (which builds the
 * package's `.d.ts` files and type-checks the monorepo with Node and DOM types, where the
 * `Deno` global is unknown). Under Deno, `deno check` uses Deno's own, complete types
 * instead: this file is never imported, so the two never meet, and `npm run typecheck`
 * in this package runs both checkers so that these declarations cannot drift from Deno's.
 *
 * Only the members used here are declared, with Deno 2's signatures.
 * @module
 */

declare namespace Deno {
  /** A TCP or UDP address. */
  export interface NetAddr {
    transport: 'tcp' | 'udp';
    hostname: string;
    port: number;
  }

  /** A Unix socket address. */
  export interface UnixAddr {
    transport: 'unix' | 'unixpacket';
    path: string;
  }

  export type Addr = NetAddr | UnixAddr;

  /** A stream connection (TCP, TLS, Unix). */
  export interface Conn<A extends Addr = Addr> {
    read(p: Uint8Array): Promise<number | null>;
    write(p: Uint8Array): Promise<number>;
    close(): void;
    closeWrite(): Promise<void>;
    readonly localAddr: A;
    readonly remoteAddr: A;
    ref(): void;
    unref(): void;
    readonly readable: ReadableStream<Uint8Array<ArrayBuffer>>;
    readonly writable: WritableStream<Uint8Array<ArrayBufferLike>>;
  }

  export interface TcpConn extends Conn<NetAddr> {
    setNoDelay(noDelay?: boolean): void;
    setKeepAlive(keepAlive?: boolean): void;
  }

  export interface TlsHandshakeInfo {
    alpnProtocol: string | null;
  }

  export interface TlsConn extends Conn<NetAddr> {
    handshake(): Promise<TlsHandshakeInfo>;
  }

  export interface Listener<T extends Conn = Conn, A extends Addr = Addr> extends AsyncIterable<T> {
    accept(): Promise<T>;
    close(): void;
    readonly addr: A;
    [Symbol.asyncIterator](): AsyncIterableIterator<T>;
    ref(): void;
    unref(): void;
  }

  export type TcpListener = Listener<TcpConn, NetAddr>;
  export type TlsListener = Listener<TlsConn, NetAddr>;

  export interface TcpListenOptions {
    port?: number;
    hostname?: string;
    transport?: 'tcp';
    /** `SO_REUSEPORT` (Linux; unstable in Deno 2.9: needs `--unstable-net`). */
    reusePort?: boolean;
  }

  /** A certificate chain and its private key, PEM-encoded. */
  export interface TlsCertifiedKeyPem {
    keyFormat?: 'pem';
    key: string;
    cert: string;
  }

  export interface ListenTlsOptions extends TcpListenOptions {
    alpnProtocols?: string[];
  }

  export interface ConnectOptions {
    port: number;
    hostname?: string;
    transport?: 'tcp';
    signal?: AbortSignal;
  }

  export interface ConnectTlsOptions {
    port: number;
    hostname?: string;
    caCerts?: string[];
    alpnProtocols?: string[];
  }

  export interface StartTlsOptions {
    hostname?: string;
    caCerts?: string[];
    alpnProtocols?: string[];
  }

  /** The platform Deno runs on. */
  export const build: { readonly os: string };
  export function listen(options: TcpListenOptions & { transport?: 'tcp' }): TcpListener;
  export function listenTls(options: ListenTlsOptions & TlsCertifiedKeyPem): TlsListener;
  export function connect(options: ConnectOptions): Promise<TcpConn>;
  export function connectTls(options: ConnectTlsOptions | (ConnectTlsOptions & TlsCertifiedKeyPem)): Promise<TlsConn>;
  export function startTls(conn: TcpConn, options?: StartTlsOptions): Promise<TlsConn>;

  /** Makes a timer stop keeping the event loop alive (Deno 2.9's `setTimeout` returns a `Timeout` object). */
  export function unrefTimer(id: number | ReturnType<typeof setTimeout>): void;

  export interface Env {
    get(key: string): string | undefined;
    toObject(): { [index: string]: string };
  }
  export const env: Env;

  export type PermissionState = 'granted' | 'denied' | 'prompt';
  export interface EnvPermissionDescriptor {
    name: 'env';
    variable?: string;
  }
  export interface PermissionStatus {
    readonly state: PermissionState;
  }
  export interface Permissions {
    querySync(desc: EnvPermissionDescriptor): PermissionStatus;
  }
  export const permissions: Permissions;

  export namespace errors {
    class BadResource extends Error {}
    class Interrupted extends Error {}
    class ConnectionReset extends Error {}
    class BrokenPipe extends Error {}
    class NotConnected extends Error {}
  }
}
