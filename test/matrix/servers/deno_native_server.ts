/**
 * The matrix server on Deno's own `Deno.serve` + `Deno.upgradeWebSocket`, for testing
 * wsflow's clients against a native server. Its server-side `WebSocket` has no Ping and no
 * write backpressure but `bufferedAmount` (polled here).
 * @module
 */
import { originAllowed, Recorder, selectProtocol, startSession, tagOf, type BehaviourSettings, type ServerConn } from './server_behaviour.ts';

/** The members of Deno's server-side WebSocket used here. */
interface DenoSocket {
  binaryType: string;
  readonly protocol: string;
  readonly bufferedAmount: number;
  onopen: (() => void) | null;
  onmessage: ((e: { data: unknown }) => void) | null;
  onclose: ((e: { code: number; reason: string; wasClean: boolean }) => void) | null;
  onerror: ((e: unknown) => void) | null;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
}

interface DenoApi {
  serve(
    options: { port: number; hostname: string; cert?: string; key?: string; onListen?: (addr: { port: number }) => void },
    handler: (request: Request) => Response,
  ): { finished: Promise<void>; shutdown(): Promise<void>; addr: { port: number } };
  upgradeWebSocket(request: Request, options?: { protocol?: string }): { socket: DenoSocket; response: Response };
}

/** Bytes `bufferedAmount` may reach before `write` waits (as wsflow's default 1 MiB). */
const HIGH_WATER = 1024 * 1024;

function serverConn(ws: DenoSocket, protocol: string): ServerConn {
  return {
    // What upgradeWebSocket was told to select (the server-side socket's own `protocol` reads '' in `onopen`).
    protocol,
    send: (data) => ws.send(data),
    async write(data) {
      ws.send(data);
      let waited = false;
      // No drain event: poll, bounded (5 s in 10 ms steps; the runner's own timeouts are shorter).
      for (let i = 0; i < 500 && ws.bufferedAmount > HIGH_WATER; i++) {
        waited = true;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return { waited };
    },
    bufferedAmount: () => ws.bufferedAmount,
    close: (code, reason) => ws.close(code, reason),
  };
}

/** Starts the plain and the TLS `Deno.serve` servers. */
export function startDenoNativeServers(
  settings: BehaviourSettings,
  recorder: Recorder,
  tls: { cert: string; key: string },
): { port: number; tlsPort: number; close(): Promise<void> } {
  const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;
  const handler = (request: Request): Response => {
    const url = new URL(request.url);
    const origin = request.headers.get('origin');
    if (!originAllowed(settings, url, origin)) {
      recorder.get(tagOf(url)).rejected = { status: 403, code: 'FORBIDDEN_ORIGIN' };
      return new Response('origin not allowed\n', { status: 403 });
    }
    const offered = (request.headers.get('sec-websocket-protocol') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const protocol = selectProtocol(offered);
    const { socket, response } = Deno.upgradeWebSocket(request, protocol === null ? {} : { protocol });
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => {
      const session = startSession(recorder, url, origin, serverConn(socket, protocol ?? ''));
      socket.onmessage = (e) => session.message(typeof e.data === 'string' ? e.data : new Uint8Array(e.data as ArrayBuffer));
      socket.onclose = (e) => {
        // Deno reports the peer's Close only here, together with the end.
        session.closing(e.code, e.reason);
        session.closed({ code: e.code, reason: e.reason, wasClean: e.wasClean });
      };
    };
    socket.onerror = () => {};
    return response;
  };
  const listening = (options: { cert?: string; key?: string }) => {
    const server = Deno.serve({ port: 0, hostname: '127.0.0.1', ...options, onListen: () => {} }, handler);
    return { port: server.addr.port, shutdown: () => server.shutdown() };
  };
  const [plain, secure] = [listening({}), listening({ cert: tls.cert, key: tls.key })];
  return {
    port: plain.port,
    tlsPort: secure.port,
    close: async () => {
      await Promise.all([plain.shutdown(), secure.shutdown()]);
    },
  };
}
