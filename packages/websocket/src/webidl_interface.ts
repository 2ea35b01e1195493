/**
 * The JavaScript shape Web IDL gives an interface (Web IDL Standard, "JavaScript binding":
 * "Interface object", "Interface prototype object", "Attributes", "Operations",
 * "Constants", "@@toStringTag"), applied to a class written as an ordinary class, and a
 * way to make several interface objects (one per runtime transport) that share one
 * implementation and each have that shape.
 * @module
 */

/** A constructor of the facade's classes. */
type AnyConstructor = abstract new (...args: never[]) => object;

/**
 * Gives the members of a class's prototype the property descriptors Web IDL specifies, and
 * its class string:
 * - a regular attribute is an accessor property `{ enumerable: true, configurable: true }`
 *   ("Attributes", step: "configurable: true, enumerable: true");
 * - a regular operation is a data property `{ writable: true, enumerable: true,
 *   configurable: true }` ("Operations");
 * - constants (non-configurable already) are left as they are;
 * - "@@toStringTag": a data property `{ value: name, writable: false, enumerable: false,
 *   configurable: true }` on the interface prototype object;
 * - the interface object's `name` is `name` (a polyfill class answers to the interface's).
 *
 * A class's own getters and methods are non-enumerable in JavaScript, which is what this
 * changes; the `constructor` property stays as classes make it, as Web IDL wants it.
 *
 * @example
 * ```ts
 * class WebSocket extends EventTarget { get url() { return ''; } close() {} }
 * applyInterfaceShape(WebSocket, 'WebSocket');
 * Object.getOwnPropertyDescriptor(WebSocket.prototype, 'url')!.enumerable; // true
 * Object.prototype.toString.call(new WebSocket()); // '[object WebSocket]'
 * ```
 */
export function applyInterfaceShape(iface: AnyConstructor, name: string): void {
  const proto = iface.prototype as object;
  for (const key of Reflect.ownKeys(proto)) {
    if (key === 'constructor' || typeof key === 'symbol') continue;
    const descriptor = Object.getOwnPropertyDescriptor(proto, key)!;
    // Constants: defined non-configurable by the caller; Web IDL wants them that way.
    if (!descriptor.configurable) continue;
    if (descriptor.get !== undefined || descriptor.set !== undefined) {
      Object.defineProperty(proto, key, { get: descriptor.get, set: descriptor.set, enumerable: true, configurable: true });
    } else if (typeof descriptor.value === 'function') {
      Object.defineProperty(proto, key, { value: descriptor.value, writable: true, enumerable: true, configurable: true });
    }
  }
  Object.defineProperty(proto, Symbol.toStringTag, { value: name, writable: false, enumerable: false, configurable: true });
  // The interface object's name is the identifier of the interface.
  Object.defineProperty(iface, 'name', { value: name });
}

/**
 * Makes a new interface object for the implementation class `impl`: a class named like it,
 * whose prototype inherits from `parent.prototype` (or `Object.prototype` when `parent` is
 * null) — not from `impl.prototype` — and holds the same members with the same
 * descriptors, with the same static constants, `name` and `length`. Constructing it constructs
 * `impl` with `new.target` kept, so the instance gets `impl`'s internal slots (private
 * fields) and the new class's prototype; `impl`'s constructor can tell the classes apart
 * by `new.target` (see {@link lookupByConstructor}).
 *
 * This is how each runtime's `WebSocket` is a class of its own whose prototype's prototype
 * is `EventTarget.prototype`, as Web IDL requires ("the [[Prototype]] of the interface
 * prototype object is the interface prototype object of the inherited interface"), while
 * the code of the class exists once.
 *
 * @example
 * ```ts
 * const NodeWebSocket = copyInterface(WebSocket, EventTarget);
 * Object.getPrototypeOf(NodeWebSocket.prototype) === EventTarget.prototype; // true
 * ```
 */
export function copyInterface<C extends AnyConstructor>(impl: C, parent: AnyConstructor | null): C {
  const construct = (args: unknown[], newTarget: unknown): object =>
    Reflect.construct(impl as unknown as new (...a: unknown[]) => object, args, newTarget as new (...a: unknown[]) => object);
  // The constructor returns the object `impl` builds (with `new.target` kept), so it never
  // calls a parent constructor itself: `parent`'s runs once, inside `impl`'s. Inheritance
  // is then set on the interface object and its prototype, as Web IDL lays them out.
  const Interface = class {
    constructor(...args: unknown[]) {
      return construct(args, new.target);
    }
  };
  if (parent !== null) {
    Object.setPrototypeOf(Interface, parent);
    Object.setPrototypeOf(Interface.prototype, parent.prototype as object);
  }
  for (const key of Reflect.ownKeys(impl.prototype as object)) {
    if (key === 'constructor') continue;
    Object.defineProperty(Interface.prototype, key, Object.getOwnPropertyDescriptor(impl.prototype as object, key)!);
  }
  // Static members (the constants); `prototype` stays the new one, `name` and `length` as
  // `impl`'s. Not an `impl`'s own @@hasInstance: the copy is a plain interface object.
  for (const key of Reflect.ownKeys(impl)) {
    if (key === 'prototype' || key === Symbol.hasInstance) continue;
    Object.defineProperty(Interface, key, Object.getOwnPropertyDescriptor(impl, key)!);
  }
  return Interface as unknown as C;
}

/**
 * The value `registry` holds for `newTarget` or the nearest class it extends: how an
 * implementation constructor reads the hidden configuration of the interface object it is
 * constructed through (a user's subclass of it included).
 *
 * @example
 * ```ts
 * const config = lookupByConstructor(configs, new.target) ?? defaultConfig;
 * ```
 */
export function lookupByConstructor<V>(registry: WeakMap<object, V>, newTarget: unknown): V | undefined {
  for (let c: unknown = newTarget; typeof c === 'function' && c !== Function.prototype; c = Object.getPrototypeOf(c)) {
    const value = registry.get(c);
    if (value !== undefined) return value;
  }
  return undefined;
}
