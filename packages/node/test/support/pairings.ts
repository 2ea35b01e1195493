// The interop matrix: each pairing is one of OUR ends (server or client) against one peer
// implementation, reachable through the same small interface, so one table of behaviours
// (interop.test.ts) runs against all of them.
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Agent, WebSocket as UndiciWebSocket } from 'undici';
import { WebSocket as WsClient, WebSocketServer as WsServer } from 'ws';
import type { WebSocketConnection } from '@wsflow/codec';
import { connect, serve, type ConnectOptions, type RejectionInfo, type ServeOptions, type WebSocketServer } from '../../src/index.ts';
import { PREFIX, runWsBot } from './bot.ts';
import type { TestCert } from './certs.ts';
import { Inbox } from './inbox.ts';
import { PeerEvents, type PeerEvent } from './peer_events.ts';
import type { TestProxy } from './proxy.ts';
import { PythonPeer } from './python.ts';

export const GOOD_ORIGIN = 'https://good.example';
export const EVIL_ORIGIN = 'https://evil.example';
export const SUPPORTED_PROTOCOLS = ['chat', 'superchat'];
const LIMIT = 32 * 1024 * 1024;

export interface OpenOptions {
  protocols?: string[];
  origin?: string;
  secure?: boolean;
  /** Through the test proxy (our client only); 'bad' uses wrong credentials. */
  proxy?: 'good' | 'bad';
  /** Ask our server's upgrade hook to refuse with 401. */
  deny?: boolean;
}

export interface Session {
  id: string;
  conn: WebSocketConnection;
  inbox: Inbox;
  /** The peer's "open" report (its negotiated `protocol`). */
  peerOpen: PeerEvent;
}

export interface Refusal {
  /** The status as the refused side saw it, null when its API does not tell. */
  status: number | null;
  headers: Record<string, string> | null;
  /** What our server reported through onReject (our server only). */
  ours: RejectionInfo | null;
  /** The error our client rejected with (our client only). */
  error: unknown;
}

export interface Capabilities {
  /** The peer accepts a 101 without a subprotocol after offering some (RFC 6455 allows it; ws does not). */
  noProtocol: boolean;
  /** The peer can send fragmented messages. */
  fragments: boolean;
  /** The peer can send a Ping on command. */
  ping: boolean;
  /** The peer can drop TCP without a Close. */
  terminate: boolean;
  /** The peer's API reports a refused handshake's status / headers. */
  refusalStatus: boolean;
  refusalHeaders: boolean;
}

export interface Pairing {
  name: string;
  ours: 'server' | 'client';
  caps: Capabilities;
  events: PeerEvents;
  start(cert: TestCert, proxy: TestProxy): Promise<void>;
  stop(): Promise<void>;
  open(options?: OpenOptions): Promise<Session>;
  refuse(options: OpenOptions): Promise<Refusal>;
}

let counter = 0;
const nextId = (): string => `c${++counter}`;

class Deferreds<T> {
  readonly #map = new Map<string, { promise: Promise<T>; resolve: (value: T) => void }>();
  get(id: string): { promise: Promise<T>; resolve: (value: T) => void } {
    let entry = this.#map.get(id);
    if (entry === undefined) {
      let resolve!: (value: T) => void;
      const promise = new Promise<T>((r) => (resolve = r));
      entry = { promise, resolve };
      this.#map.set(id, entry);
    }
    return entry;
  }
}

function withTimeout<T>(promise: Promise<T>, what: string, ms = 20_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    }),
  ]);
}

// ---- our server against a peer client ----------------------------------------------

type ClientDriver = {
  caps: Capabilities;
  start(events: PeerEvents, cert: TestCert): Promise<void>;
  stop(): Promise<void>;
  connect(id: string, url: string, options: OpenOptions): void;
};

function wsClientDriver(): ClientDriver {
  let events!: PeerEvents;
  let ca = '';
  const open = new Set<WsClient>();
  return {
    caps: { noProtocol: false, fragments: true, ping: true, terminate: true, refusalStatus: true, refusalHeaders: true },
    async start(e, cert) {
      events = e;
      ca = cert.cert;
    },
    async stop() {
      for (const ws of open) ws.terminate();
    },
    connect(id, url, options) {
      const ws = new WsClient(url, options.protocols ?? [], { origin: options.origin, ca, maxPayload: LIMIT * 2, perMessageDeflate: false });
      open.add(ws);
      let settled = false;
      ws.on('open', () => {
        settled = true;
        runWsBot(ws, id, events);
      });
      ws.on('close', () => open.delete(ws));
      ws.on('unexpected-response', (request, response) => {
        settled = true;
        events.emit(id, 'rejected', { status: response.statusCode, headers: response.headers });
        request.destroy();
      });
      ws.on('error', (error) => {
        if (!settled) events.emit(id, 'rejected', { status: null, message: error.message });
        settled = true;
      });
    },
  };
}

function undiciClientDriver(): ClientDriver {
  let events!: PeerEvents;
  let dispatcher!: Agent;
  const open = new Set<UndiciWebSocket>();
  return {
    caps: { noProtocol: false, fragments: false, ping: false, terminate: false, refusalStatus: false, refusalHeaders: false },
    async start(e, cert) {
      events = e;
      dispatcher = new Agent({ connect: { ca: cert.cert } });
    },
    async stop() {
      for (const ws of open) ws.close();
      await dispatcher.close();
    },
    connect(id, url, options) {
      const ws = new UndiciWebSocket(url, {
        protocols: options.protocols ?? [],
        headers: options.origin === undefined ? undefined : { origin: options.origin },
        dispatcher,
      });
      ws.binaryType = 'arraybuffer';
      open.add(ws);
      let opened = false;
      ws.onopen = () => {
        opened = true;
        events.emit(id, 'open', { protocol: ws.protocol });
      };
      ws.onerror = () => {
        if (!opened) events.emit(id, 'rejected', { status: null });
      };
      ws.onclose = (event) => {
        open.delete(ws);
        if (opened) events.emit(id, 'closed', { code: event.code, reason: event.reason });
      };
      ws.onmessage = (event) => {
        const data = event.data as string | ArrayBuffer;
        if (typeof data !== 'string') return ws.send(data);
        if (!data.startsWith(PREFIX)) return ws.send(data);
        const [name, ...args] = data.slice(PREFIX.length).split(' ');
        if (name === 'close') ws.close(Number(args[0]), args.slice(1).join(' '));
        else if (name === 'protocol') ws.send(`protocol ${ws.protocol}`);
        else ws.send(`unknown ${name}`);
      };
    },
  };
}

function pythonClientDriver(): ClientDriver {
  let peer: PythonPeer | null = null;
  let caPath = '';
  return {
    caps: { noProtocol: true, fragments: true, ping: true, terminate: true, refusalStatus: true, refusalHeaders: true },
    async start(events, cert) {
      caPath = cert.certPath;
      peer = (await PythonPeer.start(['client'], events)).peer;
    },
    async stop() {
      await peer?.stop();
    },
    connect(id, url, options) {
      peer!.send({ op: 'connect', id, url, protocols: options.protocols ?? [], origin: options.origin ?? null, ca: caPath });
    },
  };
}

function ourServer(peerName: string, driver: ClientDriver): Pairing {
  const events = new PeerEvents();
  const accepted = new Deferreds<{ conn: WebSocketConnection; inbox: Inbox }>();
  const rejections = new Deferreds<RejectionInfo>();
  const idOf = (request: Request | undefined): string => new URL(request?.url ?? '/', 'ws://x').searchParams.get('id') ?? '?';
  const options: ServeOptions = {
    maxPayload: LIMIT,
    maxMessage: LIMIT,
    handleProtocols: (offered) => offered.find((p) => SUPPORTED_PROTOCOLS.includes(p)) ?? null,
    allowedOrigins: (origin) => origin === undefined || origin === GOOD_ORIGIN,
    authorize: async ({ url }) => {
      await new Promise((resolve) => setTimeout(resolve, 5)); // really async
      if (url.searchParams.get('auth') !== 'deny') return undefined;
      return { status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="wsflow"' }, body: 'a token is required' };
    },
    onReject: (info) => rejections.get(idOf(info.request)).resolve(info),
    handler: (conn, request) => {
      accepted.get(idOf(request)).resolve({ conn, inbox: new Inbox(conn) });
    },
  };
  let plain: WebSocketServer | null = null;
  let secure: WebSocketServer | null = null;
  const urlFor = (id: string, o: OpenOptions): string => `${(o.secure ? secure! : plain!).url}?id=${id}${o.deny ? '&auth=deny' : ''}`;
  return {
    name: `our server ⇄ ${peerName} client`,
    ours: 'server',
    caps: driver.caps,
    events,
    async start(cert) {
      plain = await serve(options);
      secure = await serve({ ...options, tls: { cert: cert.cert, key: cert.key } });
      await driver.start(events, cert);
    },
    async stop() {
      await driver.stop();
      await Promise.all([plain?.close(), secure?.close()]);
    },
    async open(o = {}) {
      const id = nextId();
      driver.connect(id, urlFor(id, o), o);
      const [{ conn, inbox }, peerOpen] = await Promise.all([
        withTimeout(accepted.get(id).promise, `our server accepting ${id}`),
        events.next(id, 'open'),
      ]);
      return { id, conn, inbox, peerOpen };
    },
    async refuse(o) {
      const id = nextId();
      driver.connect(id, urlFor(id, o), o);
      const [ours, seen] = await Promise.all([withTimeout(rejections.get(id).promise, `our server refusing ${id}`), events.next(id, 'rejected')]);
      return {
        status: typeof seen.status === 'number' ? seen.status : null,
        headers: (seen.headers as Record<string, string> | undefined) ?? null,
        ours,
        error: null,
      };
    },
  };
}

// ---- our client against a peer server -----------------------------------------------

type ServerDriver = {
  caps: Capabilities;
  /** Starts plain and TLS servers; returns their base URLs. */
  start(events: PeerEvents, cert: TestCert): Promise<{ plain: string; secure: string }>;
  stop(): Promise<void>;
};

function wsServerDriver(): ServerDriver {
  const servers: Array<{ close(): void; closeAllConnections(): void }> = [];
  const sockets: WsServer[] = [];
  return {
    caps: { noProtocol: true, fragments: true, ping: true, terminate: true, refusalStatus: true, refusalHeaders: true },
    async start(events, cert) {
      const urls: string[] = [];
      for (const secure of [false, true]) {
        const http = secure ? createHttpsServer({ cert: cert.cert, key: cert.key }) : createHttpServer();
        const wss = new WsServer({
          server: http,
          maxPayload: LIMIT * 2,
          perMessageDeflate: false,
          handleProtocols: (offered) => [...offered].find((p) => SUPPORTED_PROTOCOLS.includes(p)) ?? false,
          verifyClient: (info, done) => {
            const origin = info.req.headers.origin;
            if (origin === undefined || origin === GOOD_ORIGIN) done(true);
            else done(false, 403, 'Forbidden');
          },
        });
        wss.on('connection', (ws, request) => {
          runWsBot(ws, new URL(request.url ?? '/', 'ws://x').searchParams.get('id') ?? '?', events);
        });
        await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
        servers.push(http);
        sockets.push(wss);
        urls.push(`${secure ? 'wss' : 'ws'}://127.0.0.1:${(http.address() as AddressInfo).port}/`);
      }
      return { plain: urls[0], secure: urls[1] };
    },
    async stop() {
      for (const wss of sockets) for (const client of wss.clients) client.terminate();
      for (const server of servers) {
        server.closeAllConnections();
        server.close();
      }
    },
  };
}

function pythonServerDriver(): ServerDriver {
  const peers: PythonPeer[] = [];
  return {
    caps: { noProtocol: true, fragments: true, ping: true, terminate: true, refusalStatus: true, refusalHeaders: true },
    async start(events, cert) {
      const plain = await PythonPeer.start(['server', '--origin', GOOD_ORIGIN], events);
      peers.push(plain.peer);
      const secure = await PythonPeer.start(['server', '--origin', GOOD_ORIGIN, '--tls', cert.certPath, cert.keyPath], events);
      peers.push(secure.peer);
      return { plain: `ws://127.0.0.1:${plain.port}/`, secure: `wss://127.0.0.1:${secure.port}/` };
    },
    async stop() {
      await Promise.all(peers.map((peer) => peer.stop()));
    },
  };
}

function ourClient(peerName: string, driver: ServerDriver): Pairing {
  const events = new PeerEvents();
  let urls = { plain: '', secure: '' };
  let cert!: TestCert;
  let proxy!: TestProxy;
  const optionsFor = (o: OpenOptions): ConnectOptions => ({
    protocols: o.protocols,
    origin: o.origin,
    ca: o.secure ? cert.cert : undefined,
    proxy: o.proxy === 'good' ? proxy.url : o.proxy === 'bad' ? proxy.bareUrl : false,
    maxPayload: LIMIT,
    maxMessage: LIMIT,
  });
  return {
    name: `our client ⇄ ${peerName} server`,
    ours: 'client',
    caps: driver.caps,
    events,
    async start(c, p) {
      cert = c;
      proxy = p;
      urls = await driver.start(events, cert);
    },
    stop: () => driver.stop(),
    async open(o = {}) {
      const id = nextId();
      const conn = await connect(`${o.secure ? urls.secure : urls.plain}?id=${id}`, optionsFor(o));
      const inbox = new Inbox(conn);
      const peerOpen = await events.next(id, 'open');
      return { id, conn, inbox, peerOpen };
    },
    async refuse(o) {
      const id = nextId();
      try {
        const conn = await connect(`${o.secure ? urls.secure : urls.plain}?id=${id}`, optionsFor(o));
        conn.abort();
      } catch (error) {
        const status = (error as { status?: unknown }).status;
        return { status: typeof status === 'number' ? status : null, headers: null, ours: null, error };
      }
      throw new Error('the handshake was expected to fail');
    },
  };
}

/** Every pairing; Python ones only when a Python with `websockets` is installed. */
export function pairings(withPython: boolean): Pairing[] {
  const list = [
    ourServer('ws', wsClientDriver()),
    ourServer('undici', undiciClientDriver()),
    ourClient('ws', wsServerDriver()),
  ];
  if (withPython) list.splice(2, 0, ourServer('Python websockets', pythonClientDriver()));
  if (withPython) list.push(ourClient('Python websockets', pythonServerDriver()));
  return list;
}
