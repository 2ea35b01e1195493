/**
 * The matrix server on Bun's own `Bun.serve` (uWebSockets), for testing wsflow's clients
 * against a native server. Backpressure: `send` answers -1 when the message was queued
 * behind a full socket; `drain` says when to go on.
 * @module
 */
import { originAllowed, Recorder, selectProtocol, startSession, tagOf, type BehaviourSettings, type ServerConn, type Session } from './server_behaviour.ts';

interface Data {
  url: URL;
  origin: string | null;
  /** The subprotocol selected in `fetch` ('' for none). */
  protocol: string;
  session?: Session;
  drained?: () => void;
}

/** The members of Bun's `ServerWebSocket` used here. */
interface BunSocket {
  readonly data: Data;
  send(data: string | Uint8Array): number;
  ping(data?: string): number;
  close(code?: number, reason?: string): void;
  getBufferedAmount(): number;
}

interface BunApi {
  serve(options: {
    port: number;
    hostname: string;
    tls?: { cert: string; key: string };
    fetch(request: Request, server: { upgrade(request: Request, options: { data: Data; headers?: Record<string, string> }): boolean }): Response | undefined;
    websocket: {
      maxPayloadLength: number;
      open(ws: BunSocket): void;
      message(ws: BunSocket, data: string | Uint8Array): void;
      pong(ws: BunSocket, data: Uint8Array): void;
      close(ws: BunSocket, code: number, reason: string): void;
      drain(ws: BunSocket): void;
    };
  }): { port: number; stop(closeActive?: boolean): Promise<void> | void };
}

const decoder = new TextDecoder();

function serverConn(ws: BunSocket, protocol: string): ServerConn {
  return {
    protocol,
    send: (data) => void ws.send(data),
    async write(data) {
      const sent = ws.send(data);
      if (sent === 0) throw new Error('Bun dropped the message');
      if (sent > 0) return { waited: false };
      // -1: queued behind backpressure; go on after `drain` (bounded: 10 s).
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 10_000);
        ws.data.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      return { waited: true };
    },
    bufferedAmount: () => ws.getBufferedAmount(),
    ping: (payload) => void ws.ping(payload),
    // Bun's close() without a code sends 1000; close(1005) sends a Close frame with no code
    // (documented: "0, 1005 and 1006 send a Close frame with no code").
    close: (code, reason) => (code === undefined ? ws.close(1005) : ws.close(code, reason)),
  };
}

/** Starts the plain and the TLS `Bun.serve` servers. */
export function startBunNativeServers(
  settings: BehaviourSettings,
  recorder: Recorder,
  tls: { cert: string; key: string },
): { port: number; tlsPort: number; close(): Promise<void> } {
  const Bun = (globalThis as unknown as { Bun: BunApi }).Bun;
  const options = {
    port: 0,
    hostname: '127.0.0.1',
    fetch(request: Request, server: { upgrade(request: Request, options: { data: Data; headers?: Record<string, string> }): boolean }): Response | undefined {
      const url = new URL(request.url);
      const origin = request.headers.get('origin');
      if (!originAllowed(settings, url, origin)) {
        recorder.get(tagOf(url)).rejected = { status: 403, code: 'FORBIDDEN_ORIGIN' };
        return new Response('origin not allowed\n', { status: 403 });
      }
      const offered = (request.headers.get('sec-websocket-protocol') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      const protocol = selectProtocol(offered);
      const headers: Record<string, string> = protocol === null ? {} : { 'Sec-WebSocket-Protocol': protocol };
      if (server.upgrade(request, { data: { url, origin, protocol: protocol ?? '' }, headers })) return undefined;
      return new Response('upgrade failed\n', { status: 400 });
    },
    websocket: {
      // 16 MiB messages must fit (Bun's default limit is 16 MiB; the frame header is extra).
      maxPayloadLength: 64 * 1024 * 1024,
      open(ws: BunSocket): void {
        ws.data.session = startSession(recorder, ws.data.url, ws.data.origin, serverConn(ws, ws.data.protocol));
      },
      message(ws: BunSocket, data: string | Uint8Array): void {
        ws.data.session?.message(data);
      },
      pong(ws: BunSocket, data: Uint8Array): void {
        ws.data.session?.pong(decoder.decode(data));
      },
      close(ws: BunSocket, code: number, reason: string): void {
        // Bun reports the peer's Close only here, together with the end.
        ws.data.session?.closing(code, reason);
        ws.data.session?.closed({ code, reason, wasClean: code !== 1006 });
      },
      drain(ws: BunSocket): void {
        const drained = ws.data.drained;
        ws.data.drained = undefined;
        drained?.();
      },
    },
  };
  const plain = Bun.serve(options);
  const secure = Bun.serve({ ...options, tls: { cert: tls.cert, key: tls.key } });
  return {
    port: plain.port,
    tlsPort: secure.port,
    close: async () => {
      await Promise.all([plain.stop(true), secure.stop(true)]);
    },
  };
}
