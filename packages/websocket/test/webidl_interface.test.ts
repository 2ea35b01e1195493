// The Web IDL shape of the facade's interfaces (Web IDL "JavaScript binding"), as the
// web-platform-tests' idlharness checks it: prototype chains, own members with their
// property descriptors, constants on the interface object and its prototype, `length`,
// and the class string. Each runtime's classes are made by createWebSocketClass /
// createWebSocketStreamClass, so those are checked as much as the package's own.
import { describe, expect, it } from 'vitest';
import {
  CloseEventPolyfill,
  MessageEventPolyfill,
  NativeWebSocketStream,
  WebSocket,
  WebSocketError,
  WebSocketStream,
  createNativeWebSocketStreamClass,
  createWebSocketClass,
  createWebSocketStreamClass,
  defaultNetwork,
} from '../src/index.ts';

type Ctor = abstract new (...args: never[]) => object;

interface Shape {
  name: string;
  length: number;
  parent: Ctor | null;
  attributes: Array<[name: string, writable: boolean]>;
  operations: Array<[name: string, length: number]>;
  constants?: Record<string, number>;
}

function checkShape(iface: Ctor, shape: Shape): void {
  const proto = iface.prototype as object;
  // "The [[Prototype]] of the interface object is the interface object of the inherited interface."
  // (Identity is compared with ===: a test harness printing a prototype would read its getters.)
  expect(Object.getPrototypeOf(iface) === (shape.parent ?? Function.prototype)).toBe(true);
  // "The [[Prototype]] of the interface prototype object is the inherited interface's prototype."
  expect(Object.getPrototypeOf(proto) === (shape.parent === null ? Object.prototype : shape.parent.prototype)).toBe(true);
  expect(iface.name).toBe(shape.name);
  expect(Object.getOwnPropertyDescriptor(iface, 'length')).toEqual({ value: shape.length, writable: false, enumerable: false, configurable: true });
  // (Descriptors holding objects are compared field by field: a deep comparison would read
  // the prototype's own getters on the prototype itself.)
  const protoProp = Object.getOwnPropertyDescriptor(iface, 'prototype')!;
  expect(protoProp.value === proto).toBe(true);
  expect([protoProp.writable, protoProp.enumerable, protoProp.configurable]).toEqual([false, false, false]);
  const ctorProp = Object.getOwnPropertyDescriptor(proto, 'constructor')!;
  expect(ctorProp.value === iface).toBe(true);
  expect([ctorProp.writable, ctorProp.enumerable, ctorProp.configurable]).toEqual([true, false, true]);
  // "@@toStringTag": a data property, { [[Writable]]: false, [[Enumerable]]: false, [[Configurable]]: true }.
  expect(Object.getOwnPropertyDescriptor(proto, Symbol.toStringTag)).toEqual({ value: shape.name, writable: false, enumerable: false, configurable: true });
  for (const [name, writable] of shape.attributes) {
    const d = Object.getOwnPropertyDescriptor(proto, name);
    // Attributes: accessor properties, enumerable and configurable; a readonly one has no setter.
    expect(d, name).toMatchObject({ enumerable: true, configurable: true });
    expect(typeof d?.get, name).toBe('function');
    expect(typeof d?.set, name).toBe(writable ? 'function' : 'undefined');
    // A getter called on another object throws a TypeError (the brand check).
    expect(() => d!.get!.call({}), name).toThrow(TypeError);
  }
  for (const [name, length] of shape.operations) {
    const d = Object.getOwnPropertyDescriptor(proto, name);
    // Operations: data properties, writable, enumerable and configurable.
    expect(d, name).toMatchObject({ writable: true, enumerable: true, configurable: true });
    expect((d!.value as (...a: unknown[]) => unknown).length, name).toBe(length);
  }
  for (const [name, value] of Object.entries(shape.constants ?? {})) {
    // Constants: on the interface object and on the prototype, read-only, enumerable, not configurable.
    for (const holder of [iface, proto]) {
      expect(Object.getOwnPropertyDescriptor(holder, name), name).toEqual({ value, writable: false, enumerable: true, configurable: false });
    }
  }
}

const webSocketShape: Shape = {
  name: 'WebSocket',
  length: 1,
  parent: EventTarget,
  attributes: [
    ['url', false],
    ['readyState', false],
    ['bufferedAmount', false],
    ['onopen', true],
    ['onerror', true],
    ['onclose', true],
    ['extensions', false],
    ['protocol', false],
    ['onmessage', true],
    ['binaryType', true],
  ],
  operations: [
    ['close', 0],
    ['send', 1],
  ],
  constants: { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 },
};

const webSocketStreamShape: Shape = {
  name: 'WebSocketStream',
  length: 1,
  parent: null,
  attributes: [
    ['url', false],
    ['opened', false],
    ['closed', false],
  ],
  operations: [['close', 0]],
};

describe('Web IDL shape: WebSocket', () => {
  it("the package's WebSocket is an interface object inheriting from EventTarget, with own members", () => {
    checkShape(WebSocket, webSocketShape);
  });

  it('a class made by createWebSocketClass (as each runtime exports) has the same shape, not a subclass', () => {
    const WS = createWebSocketClass({ dialer: defaultNetwork.dialer, acceptInit: true });
    checkShape(WS, webSocketShape);
    expect(WS).not.toBe(WebSocket);
    // A plain interface object: instanceof goes by its prototype alone.
    expect(Object.getOwnPropertySymbols(WS)).toEqual([]);
  });

  it('instances of a made class work, and report themselves as WebSocket', () => {
    const WS = createWebSocketClass({ dialer: defaultNetwork.dialer });
    const ws = new WS('ws://idl-shape.test/');
    expect(ws).toBeInstanceOf(WS);
    expect(ws).toBeInstanceOf(EventTarget);
    expect(Object.prototype.toString.call(ws)).toBe('[object WebSocket]');
    expect(ws.readyState).toBe(WS.CONNECTING);
    expect(ws.url).toBe('ws://idl-shape.test/');
    // One class's getter refuses another class's instance: each has its own brand only
    // through the shared implementation, which both carry.
    expect(Object.getOwnPropertyDescriptor(WebSocket.prototype, 'url')!.get!.call(ws)).toBe('ws://idl-shape.test/');
    ws.close();
  });

  it('a subclass of a made class constructs through it', () => {
    const WS = createWebSocketClass({ dialer: defaultNetwork.dialer });
    class Mine extends WS {
      extra = 1;
    }
    const ws = new Mine('ws://idl-subclass.test/');
    expect(ws).toBeInstanceOf(Mine);
    expect(ws).toBeInstanceOf(WS);
    expect(ws.extra).toBe(1);
    expect(ws.readyState).toBe(0);
    ws.close();
  });

  it("the package's WebSocket answers instanceof for every facade WebSocket, a subclass of it only for its own", () => {
    const WS = createWebSocketClass({ dialer: defaultNetwork.dialer });
    class Sub extends WebSocket {}
    const made = new WS('ws://idl-instanceof.test/');
    const sub = new Sub('ws://idl-instanceof.test/');
    expect(made instanceof WebSocket).toBe(true);
    expect(sub instanceof WebSocket).toBe(true);
    expect(sub instanceof Sub).toBe(true);
    expect(made instanceof Sub).toBe(false);
    expect({} instanceof WebSocket).toBe(false);
    made.close();
    sub.close();
  });

  it('the interface object cannot be called without new', () => {
    const WS = createWebSocketClass({ dialer: defaultNetwork.dialer });
    expect(() => (WS as unknown as (url: string) => unknown)('ws://x.test/')).toThrow(TypeError);
    expect(() => (WebSocket as unknown as (url: string) => unknown)('ws://x.test/')).toThrow(TypeError);
  });
});

describe('Web IDL shape: WebSocketStream', () => {
  it("the package's WebSocketStream", () => {
    checkShape(WebSocketStream, webSocketStreamShape);
  });

  it('a class made by createWebSocketStreamClass', () => {
    const WSS = createWebSocketStreamClass({ dialer: defaultNetwork.dialer });
    checkShape(WSS, webSocketStreamShape);
    expect(Object.getOwnPropertySymbols(WSS)).toEqual([]);
    const wss = new WSS('ws://idl-stream.test/');
    expect(Object.prototype.toString.call(wss)).toBe('[object WebSocketStream]');
    expect(wss.url).toBe('ws://idl-stream.test/');
    wss.opened.catch(() => {});
    wss.closed.catch(() => {});
    wss.close();
  });

  it('NativeWebSocketStream and the classes made from it', () => {
    // It stands for WebSocketStream: that is its name and class string.
    checkShape(NativeWebSocketStream, webSocketStreamShape);
    checkShape(createNativeWebSocketStreamClass({}), webSocketStreamShape);
  });
});

describe('Web IDL shape: WebSocketError, CloseEvent, MessageEvent', () => {
  it('WebSocketError inherits from DOMException, with closeCode and reason as own attributes', () => {
    checkShape(WebSocketError, {
      name: 'WebSocketError',
      length: 0,
      parent: DOMException,
      attributes: [
        ['closeCode', false],
        ['reason', false],
      ],
      operations: [],
    });
    expect(Object.prototype.toString.call(new WebSocketError('x'))).toBe('[object WebSocketError]');
  });

  it('the CloseEvent polyfill', () => {
    checkShape(CloseEventPolyfill, {
      name: 'CloseEvent',
      length: 1,
      parent: Event,
      attributes: [
        ['wasClean', false],
        ['code', false],
        ['reason', false],
      ],
      operations: [],
    });
  });

  it('the MessageEvent polyfill', () => {
    checkShape(MessageEventPolyfill, {
      name: 'MessageEvent',
      length: 1,
      parent: Event,
      attributes: [
        ['data', false],
        ['origin', false],
        ['lastEventId', false],
        ['source', false],
        ['ports', false],
      ],
      operations: [],
    });
  });
});
