/**
 * The matrix server on wsflow's `serve`, the same code on every shim: the shims differ
 * only in their TLS option names (node and bun: `tls: { key, cert }`; deno: `cert`,
 * `key`) and in the request the handler gets (node: an `IncomingMessage`; deno and bun:
 * a `Request`).
 * @module
 */
import type { RuntimeName } from '../runtime.ts';
import { originAllowed, Recorder, selectProtocol, startSession, tagOf, type BehaviourSettings, type ServerConn } from './server_behaviour.ts';

/** The part of a codec `WebSocketConnection` the server uses. */
interface Connection {
  readonly protocol: string;
  readonly bufferedAmount: number;
  readonly writable: WritableStream<string | Uint8Array>;
  readonly closed: Promise<{ closeCode: number; reason: string; wasClean: boolean }>;
  onmessage: ((data: string | Uint8Array) => void) | null;
  onpong: ((payload: Uint8Array) => void) | null;
  onclosing: ((info: { closeCode: number; reason: string }) => void) | null;
  send(data: string | Uint8Array): boolean;
  ping(payload?: string): boolean;
  close(options?: { closeCode?: number; reason?: string }): void;
}

/** A node `IncomingMessage` or a WHATWG `Request`. */
type AnyRequest = { url?: string; headers: Headers | Record<string, string | string[] | undefined> };

function urlOf(request: AnyRequest): URL {
  return new URL(request.url ?? '/', 'ws://matrix.invalid');
}

function originOf(request: AnyRequest): string | null {
  const h = request.headers;
  if (typeof (h as Headers).get === 'function') return (h as Headers).get('origin');
  const v = (h as Record<string, string | string[] | undefined>).origin;
  return typeof v === 'string' ? v : null;
}

interface Listening {
  port: number;
  close(): Promise<void>;
}

type Serve = (options: Record<string, unknown>) => Promise<Listening>;

const decoder = new TextDecoder();

/** Adapts a wsflow connection to the behaviours. */
function serverConn(conn: Connection): ServerConn {
  let writer: WritableStreamDefaultWriter<string | Uint8Array> | null = null;
  return {
    protocol: conn.protocol,
    send: (data) => void conn.send(data),
    async write(data) {
      // The WebSocketStream-shaped `writable`: a write resolves once `bufferedAmount` is
      // under the writable high-water mark (1 MiB by default).
      writer ??= conn.writable.getWriter();
      const waiting = conn.bufferedAmount;
      const p = writer.write(data);
      const waited = conn.bufferedAmount > 1024 * 1024 || waiting > 1024 * 1024;
      await p;
      return { waited };
    },
    bufferedAmount: () => conn.bufferedAmount,
    ping: (payload) => void conn.ping(payload),
    close: (code, reason) => conn.close(code === undefined ? {} : { closeCode: code, reason: reason ?? '' }),
  };
}

/** Starts the plain and the TLS server of wsflow on `runtime`. */
export async function startWsflowServers(
  runtime: RuntimeName,
  settings: BehaviourSettings,
  recorder: Recorder,
  tls: { cert: string; key: string },
): Promise<{ port: number; tlsPort: number; close(): Promise<void> }> {
  const specifier = `@wsflow/${runtime}`;
  const shim = (await import(specifier)) as { serve: Serve };
  const options = {
    port: 0,
    host: '127.0.0.1',
    // Up to 16 MiB messages both ways, as the defaults; said here so the matrix states it.
    maxPayload: 16 * 1024 * 1024,
    maxMessage: 16 * 1024 * 1024,
    handleProtocols: (offered: string[]) => selectProtocol(offered),
    allowedOrigins: (origin: string | undefined, request: AnyRequest) => originAllowed(settings, urlOf(request), origin),
    onReject: (info: { status: number; code: string; request?: AnyRequest }) => {
      // No request when the connection failed before one was read (e.g. a TLS handshake
      // a browser gave up on): nothing to record.
      if (info.request === undefined) return;
      recorder.get(tagOf(urlOf(info.request))).rejected = { status: info.status, code: info.code };
    },
    handler: (conn: Connection, request: AnyRequest) => {
      const session = startSession(recorder, urlOf(request), originOf(request), serverConn(conn));
      conn.onmessage = (data) => session.message(data);
      conn.onpong = (payload) => session.pong(decoder.decode(payload));
      conn.onclosing = ({ closeCode, reason }) => session.closing(closeCode, reason);
      void conn.closed.then(({ closeCode, reason, wasClean }) => session.closed({ code: closeCode, reason, wasClean }));
    },
  };
  const tlsOptions = { tls: { cert: tls.cert, key: tls.key } };
  const [plain, secure] = await Promise.all([shim.serve(options), shim.serve({ ...options, ...tlsOptions })]);
  return {
    port: plain.port,
    tlsPort: secure.port,
    close: async () => {
      await Promise.all([plain.close(), secure.close()]);
    },
  };
}
