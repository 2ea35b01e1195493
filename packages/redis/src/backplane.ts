/**
 * The `Backplane` interface a wsflow server relays topics through. A local copy of the
 * declaration `@wsflow/engine` is getting (`packages/engine/src/backplane.ts`), kept
 * identical until the engine exports it; then this file re-exports the engine's.
 * @module
 */

/** Relays topic messages between server instances (processes or machines). */
export interface Backplane {
  /** Called once by the server when it starts: `deliver` gets every message another instance published
   *  on a topic this instance subscribed to, exactly once (the backplane filters its own echoes). */
  start(deliver: (topic: string, data: string | Uint8Array) => void): void;
  /** The first local subscriber of `topic` appeared. */
  subscribe(topic: string): void;
  /** The last local subscriber of `topic` left. */
  unsubscribe(topic: string): void;
  /** Relays a message published here to the other instances. */
  publish(topic: string, data: string | Uint8Array): void;
  /** Stops relaying; called by `server.close()`. */
  close(): Promise<void>;
}
