/**
 * A constructor that stands for a global class (`CloseEvent`, `MessageEvent`) but looks
 * the global up on first use rather than at module load. In Node, merely reading
 * `globalThis.CloseEvent` loads its bundled undici (about 2 MB of heap a server then
 * carries); a server that never dispatches a WHATWG event should not pay for it.
 * @module
 */

/**
 * Returns a class that constructs, and answers `instanceof` for, the global `name` when
 * it is a function, else `fallback`, deciding on first use.
 *
 * @example
 * ```ts
 * const CloseEventImpl = lazyGlobalClass('CloseEvent', CloseEventPolyfill);
 * new CloseEventImpl('close', { code: 1000 }) instanceof CloseEventImpl; // true
 * ```
 */
export function lazyGlobalClass<C extends abstract new (...args: never[]) => object>(name: string, fallback: C): C {
  let resolved: C | undefined;
  const resolve = (): C => {
    if (resolved === undefined) {
      const value = (globalThis as Record<string, unknown>)[name];
      resolved = typeof value === 'function' ? (value as C) : fallback;
    }
    return resolved;
  };
  const Lazy = function (this: unknown, ...args: unknown[]): object {
    if (new.target === undefined) throw new TypeError(`Class constructor ${name} cannot be invoked without 'new'`);
    return Reflect.construct(resolve() as unknown as new (...a: unknown[]) => object, args, resolve() as unknown as new () => object);
  };
  Object.defineProperty(Lazy, 'name', { value: name });
  Object.defineProperty(Lazy, Symbol.hasInstance, { value: (instance: unknown) => instance instanceof (resolve() as unknown as new () => object) });
  return Lazy as unknown as C;
}
