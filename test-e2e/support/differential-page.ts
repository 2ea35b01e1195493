/**
 * Runs in the page (bundled by esbuild with the facade's and the codec's sources): the
 * scripted scenarios of the differential spec, each run once with Chromium's own
 * `WebSocket` and once with the facade, whose connections go through the codec and the
 * byte relay (relay-duplex.ts) to the same Node server. A scenario's script only uses the
 * standard API, so the same code drives both; every event and every point of interest is
 * logged with the attributes the standard defines at that moment.
 *
 * Installed as `globalThis.differential`.
 */
import { createWebSocketClass, createWebSocketStreamClass, WebSocketError as FacadeWebSocketError } from '../../packages/websocket/src/index.ts';
import { relayDialer } from './relay-duplex.ts';

/** What a message's `data` was, as plain data. */
export type LoggedData =
  | { kind: 'string'; value: string }
  | { kind: 'ArrayBuffer'; bytes: number[] }
  | { kind: 'Blob'; size: number; type: string; bytes: number[] | null };

/** One line of a log: an event fired, or a point the script chose. */
export interface Step {
  /** `open`, `message`, `error`, `close`, or a script's own label (`after send`, …). */
  at: string;
  readyState: number;
  /**
   * `null` at a message event the script declares "in flight" (see `Script.inFlight`):
   * how much of what was sent has been transmitted then depends on timing.
   */
  bufferedAmount: number | null;
  protocol: string;
  extensions: string;
  binaryType: string;
  /** Event-specific fields. */
  code?: number;
  reason?: string;
  wasClean?: boolean;
  data?: LoggedData;
  origin?: string;
  /** The event's interface, as `Object.prototype.toString` names it. */
  eventClass?: string;
  /** What a call made here threw (`InvalidStateError`, …), or `ok`. */
  outcome?: string;
}

type Ctor = new (url: string, protocols?: string | string[]) => WebSocket;

interface Script {
  /** The server path (one per scenario; see differential-server.ts). */
  path: string;
  protocols?: string[];
  /** User info to put in the URL (`user:password`, percent-encoded as a URL holds it). */
  userinfo?: string;
  /**
   * Whether, at the `received`-th message event (1-based), data sent earlier may still be
   * on its way out: bufferedAmount is then a timing-dependent value and not logged.
   */
  inFlight?: (received: number) => boolean;
  /** Drives the socket; `mark` logs a step of the script's own. */
  act(ws: WebSocket, mark: (at: string, extra?: Partial<Step>) => void): void;
}

const binary = (...bytes: number[]) => new Uint8Array(bytes);
const outcome = (fn: () => void): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return (e as Error).name;
  }
};

/** The scenarios, by name. */
export const scripts: Record<string, Script> = {
  // (1) A normal echo: text (ASCII, empty, non-ASCII), binary (view, ArrayBuffer, empty,
  // a Blob, 70 000 bytes: the 64-bit length form), then close() without a code.
  // bufferedAmount is exact after each send() (it grows by the size, synchronously) and
  // once every echo came back (0); in between, the sends behind the Blob (which both
  // read asynchronously) may or may not have been transmitted when an echo arrives.
  echo: {
    path: '/echo',
    protocols: ['chat'],
    inFlight: (received) => received < 8,
    act(ws, mark) {
      ws.binaryType = 'arraybuffer';
      const big = new Uint8Array(70_000).map((_, i) => i & 0xff);
      const sends: Array<[string, () => void]> = [
        ['text', () => ws.send('hello')],
        ['empty text', () => ws.send('')],
        ['non-ASCII text', () => ws.send('héllo €')],
        ['Uint8Array view', () => ws.send(binary(9, 1, 2, 3, 9).subarray(1, 4))],
        ['ArrayBuffer', () => ws.send(binary(4, 5).buffer)],
        ['empty binary', () => ws.send(new ArrayBuffer(0))],
        ['Blob', () => ws.send(new Blob([binary(6, 7, 8)]))],
        ['70000 bytes', () => ws.send(big)],
      ];
      ws.addEventListener('open', () => {
        for (const [what, send] of sends) mark(`after send ${what}`, { outcome: outcome(send) });
      });
      let received = 0;
      ws.addEventListener('message', () => {
        if (++received === sends.length) {
          ws.close();
          mark('after close()');
        }
      });
    },
  },

  // (2) The server closes with a code and a reason, after answering a message.
  'server close': {
    path: '/server-close',
    act(ws, mark) {
      ws.addEventListener('open', () => ws.send('please close'));
      ws.addEventListener('close', () => mark('send after close event', { outcome: outcome(() => ws.send('too late')) }));
    },
  },

  // (3) The client closes with a code and a reason; sends after close() are counted in
  // bufferedAmount and never sent; a second close() does nothing.
  'client close': {
    path: '/client-close',
    act(ws, mark) {
      ws.addEventListener('open', () => ws.send('one'));
      ws.addEventListener('message', () => {
        mark('close(4000, "client bye")', { outcome: outcome(() => ws.close(4000, 'client bye')) });
        mark('send while CLOSING', { outcome: outcome(() => ws.send('late')) });
        mark('close() again', { outcome: outcome(() => ws.close(4001, 'again')) });
      });
      ws.addEventListener('close', () => mark('send after close event', { outcome: outcome(() => ws.send(binary(1, 2, 3))) }));
    },
  },

  // (4) The server sends a text message, then a text frame that is not UTF-8, in answer to
  // a message of the client (the connection is long established).
  'invalid UTF-8': {
    path: '/invalid-utf8',
    act(ws) {
      ws.addEventListener('open', () => ws.send('go'));
    },
  },

  // (4b) The same two frames written together with the 101 response, in one TCP write.
  'invalid UTF-8 with the handshake': {
    path: '/invalid-utf8-early',
    act() {},
  },

  // (5) The server refuses the handshake with 403: the Origin is not allowed.
  'refused by origin (403)': {
    path: '/forbidden-origin',
    act(ws, mark) {
      mark('after constructor');
      ws.addEventListener('error', () => mark('send in error handler', { outcome: outcome(() => ws.send('x')) }));
    },
  },

  // (5b) The same refusal by the server's authorize hook.
  'refused by authorize (403)': {
    path: '/authorize-403',
    act(ws, mark) {
      mark('after constructor');
    },
  },

  // (8) Credentials in the URL: Fetch sends them as Basic Authorization (the server logs
  // the field), then the server closes.
  'credentials in the URL': {
    path: '/credentials',
    userinfo: 'us%C3%A9r:p%40ss',
    act(ws, mark) {
      mark('after constructor');
    },
  },

  // (10) send() of buffers Web IDL refuses (no [AllowShared], no [AllowResizable]): a
  // TypeError from the argument's conversion, before the state check, in every state.
  // (The page is not cross-origin isolated: its SharedArrayBuffer comes from a shared
  // WebAssembly.Memory.)
  'send: shared and resizable buffers': {
    path: '/client-close',
    act(ws, mark) {
      const shared = (): ArrayBufferLike => new WebAssembly.Memory({ shared: true, initial: 1, maximum: 1 }).buffer;
      const resizable = (): ArrayBuffer => new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(4, { maxByteLength: 8 });
      const sends: Array<[string, () => void]> = [
        ['SharedArrayBuffer', () => ws.send(shared() as ArrayBuffer)],
        ['view on a SharedArrayBuffer', () => ws.send(new Uint8Array(shared()))],
        ['resizable ArrayBuffer', () => ws.send(resizable())],
        ['view on a resizable ArrayBuffer', () => ws.send(new Uint8Array(resizable()))],
        ['fixed ArrayBuffer', () => ws.send(new ArrayBuffer(2))],
      ];
      for (const [what, send] of sends) mark(`while connecting, send ${what}`, { outcome: outcome(send) });
      ws.addEventListener('open', () => {
        for (const [what, send] of sends) mark(`send ${what}`, { outcome: outcome(send) });
      });
      ws.addEventListener('message', () => ws.close(1000, 'done'));
    },
  },

  // (6) Protocols offered, none selected by the server: the client must fail the connection.
  'no subprotocol selected': {
    path: '/no-protocol',
    protocols: ['chat', 'superchat'],
    act(ws, mark) {
      mark('after constructor');
    },
  },

  // (7) binaryType switches between messages: blob for the first, arraybuffer for the
  // second (each asked for after the previous arrived), then a burst of three the server
  // writes at once, switching in each handler.
  'binaryType switches': {
    path: '/binary-type',
    act(ws, mark) {
      mark('initial binaryType');
      ws.addEventListener('open', () => ws.send('next'));
      let received = 0;
      ws.addEventListener('message', () => {
        received++;
        if (received === 1) {
          ws.binaryType = 'arraybuffer';
          mark('switched to arraybuffer');
          ws.send('next');
        } else if (received === 2) {
          ws.binaryType = 'blob';
          mark('switched to blob');
          ws.send('burst');
        } else if (received < 5) {
          ws.binaryType = ws.binaryType === 'blob' ? 'arraybuffer' : 'blob';
          mark(`switched to ${ws.binaryType}`);
        } else ws.close(1000, 'done');
      });
    },
  },
};

const eventClass = (event: Event) => Object.prototype.toString.call(event).slice(8, -1);

/** Runs one script with one class; resolves with the log once `close` fired (or after `timeoutMs`). */
async function runScript(WebSocketClass: Ctor, url: string, script: Script, timeoutMs: number): Promise<Step[]> {
  const log: Step[] = [];
  const blobs: Promise<void>[] = [];
  let ws!: WebSocket;
  let received = 0;
  const step = (at: string, extra: Partial<Step> = {}): void => {
    const inFlight = at === 'message' && script.inFlight?.(received) === true;
    log.push({
      at,
      readyState: ws.readyState,
      bufferedAmount: inFlight ? null : ws.bufferedAmount,
      protocol: ws.protocol,
      extensions: ws.extensions,
      binaryType: ws.binaryType,
      ...extra,
    });
  };
  const done = new Promise<void>((resolve) => {
    ws = script.protocols === undefined ? new WebSocketClass(url) : new WebSocketClass(url, script.protocols);
    // The log's own listeners go first, so a script's handlers log after the event's line.
    ws.addEventListener('open', (e) => step('open', { eventClass: eventClass(e) }));
    ws.addEventListener('message', (e) => {
      received++;
      const { data } = e as MessageEvent;
      let logged: LoggedData;
      if (typeof data === 'string') logged = { kind: 'string', value: data };
      else if (data instanceof ArrayBuffer) logged = { kind: 'ArrayBuffer', bytes: Array.from(new Uint8Array(data)).slice(0, 16) };
      else {
        const blob = data as Blob;
        const entry: LoggedData = { kind: 'Blob', size: blob.size, type: blob.type, bytes: null };
        blobs.push(blob.arrayBuffer().then((b) => void (entry.bytes = Array.from(new Uint8Array(b)).slice(0, 16))));
        logged = entry;
      }
      // Long payloads: their first 16 bytes, then minus their length.
      if (logged.kind === 'ArrayBuffer' && (data as ArrayBuffer).byteLength > 16) logged.bytes.push(-(data as ArrayBuffer).byteLength);
      step('message', { data: logged, origin: (e as MessageEvent).origin, eventClass: eventClass(e) });
    });
    ws.addEventListener('error', (e) => step('error', { eventClass: eventClass(e) }));
    ws.addEventListener('close', (e) => {
      const { code, reason, wasClean } = e as CloseEvent;
      step('close', { code, reason, wasClean, eventClass: eventClass(e) });
      // Let the script's own close listeners run first.
      setTimeout(resolve, 0);
    });
    script.act(ws, step);
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(() => (step('timeout'), resolve()), timeoutMs)));
  await Promise.race([done, timeout]);
  clearTimeout(timer);
  await Promise.all(blobs);
  return log;
}

/** Both logs of a scenario. */
export interface Outcome {
  native: Step[];
  facade: Step[];
}

/**
 * Runs the scenario `name` against the server at `base` (`ws://127.0.0.1:<port>`): first
 * with Chromium's `WebSocket`, then with the facade over the relay at `${base}/relay`. Each
 * run's URL carries `?run=<runId>-native|facade`, which the server uses to keep its own log.
 */
export async function run(name: string, base: string, runId: string, timeoutMs = 10_000): Promise<Outcome> {
  const script = scripts[name];
  if (script === undefined) throw new Error(`no scenario ${name}`);
  const Facade = createWebSocketClass({ dialer: relayDialer(`${base}/relay`) }) as unknown as Ctor;
  const withUserinfo = script.userinfo === undefined ? base : base.replace('://', `://${script.userinfo}@`);
  const url = (who: string) => `${withUserinfo}${script.path}?run=${encodeURIComponent(`${runId}-${who}`)}`;
  const native = await runScript(WebSocket as unknown as Ctor, url('native'), script, timeoutMs);
  const facade = await runScript(Facade, url('facade'), script, timeoutMs);
  return { native, facade };
}

/** What Web IDL decides about a class's JavaScript shape, in a form to compare. */
export interface InterfaceShape {
  name: string;
  length: number;
  /** The names of the interface objects its prototype and its own [[Prototype]] are of ('Object', 'Function' at the root). */
  parents: [prototypeOf: string, constructorOf: string];
  /** Each own property of the prototype: how it is defined. */
  members: Record<string, string>;
  /** Each own property of the interface object but `length`, `name`, `prototype`. */
  statics: Record<string, string>;
}

function describeProperty(d: PropertyDescriptor): string {
  const flags = `${d.enumerable ? 'E' : '-'}${d.configurable ? 'C' : '-'}`;
  if (d.get !== undefined || d.set !== undefined) return `accessor ${flags} get${d.set === undefined ? '' : '+set'}`;
  const writable = d.writable ? 'W' : '-';
  if (typeof d.value === 'function') return `method ${flags}${writable} length ${(d.value as (...a: unknown[]) => unknown).length}`;
  return `data ${flags}${writable} ${typeof d.value === 'object' || typeof d.value === 'function' ? typeof d.value : JSON.stringify(d.value)}`;
}

function shapeOf(iface: abstract new (...args: never[]) => object): InterfaceShape {
  const proto = iface.prototype as object;
  const nameOf = (o: object | null): string => (o === null ? 'null' : ((o as { constructor?: { name?: string } }).constructor?.name ?? '?'));
  const members: Record<string, string> = {};
  for (const key of Reflect.ownKeys(proto)) {
    if (key === 'constructor') continue;
    members[String(key)] = describeProperty(Object.getOwnPropertyDescriptor(proto, key)!);
  }
  const statics: Record<string, string> = {};
  for (const key of Reflect.ownKeys(iface)) {
    if (key === 'length' || key === 'name' || key === 'prototype') continue;
    statics[String(key)] = describeProperty(Object.getOwnPropertyDescriptor(iface, key)!);
  }
  const ctorParent = Object.getPrototypeOf(iface) as { name?: string };
  return {
    name: iface.name,
    length: iface.length,
    parents: [nameOf(Object.getPrototypeOf(proto) as object | null), ctorParent === Function.prototype ? 'Function' : (ctorParent.name ?? '?')],
    members,
    statics,
  };
}

/**
 * The Web IDL shapes of Chromium's own `WebSocket`, `WebSocketStream` and `WebSocketError`
 * (those it has) and of the facade's, made as a runtime shim makes them.
 */
export function shapes(): Record<string, { native: InterfaceShape; facade: InterfaceShape }> {
  const dialer = relayDialer('ws://127.0.0.1:1/relay');
  const g = globalThis as Record<string, unknown>;
  const out: Record<string, { native: InterfaceShape; facade: InterfaceShape }> = {
    WebSocket: { native: shapeOf(WebSocket), facade: shapeOf(createWebSocketClass({ dialer })) },
  };
  if (typeof g.WebSocketStream === 'function') {
    out.WebSocketStream = { native: shapeOf(g.WebSocketStream as new () => object), facade: shapeOf(createWebSocketStreamClass({ dialer })) };
  }
  if (typeof g.WebSocketError === 'function') {
    out.WebSocketError = { native: shapeOf(g.WebSocketError as new () => object), facade: shapeOf(FacadeWebSocketError) };
  }
  return out;
}

declare global {
  // eslint-disable-next-line no-var
  var differential: { run: typeof run; shapes: typeof shapes; names: string[] };
}
globalThis.differential = { run, shapes, names: Object.keys(scripts) };
