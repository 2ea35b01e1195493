/**
 * What the tool servers do with each connection, written once for every runtime: the echo
 * server's and the fan-out server's handlers. `tools/echo.ts`, `tools/fanout_server.ts` and
 * their Deno and Bun copies in `packages/<runtime>/bin/` all hand these to their shim's
 * `serve`. Platform-neutral: no imports, so Node, Deno and Bun load it as it is.
 * @module
 */

/** A message as a connection delivers it: text as a string, binary as bytes. */
type ToolMessage = string | Uint8Array;

/** The part of a server connection the echo handler uses. */
export interface EchoingConnection {
  onmessage: ((data: ToolMessage) => void) | null;
  send(data: ToolMessage): unknown;
}

/** The part of a server connection the fan-out handler uses. */
export interface RoomConnection {
  onmessage: ((data: ToolMessage) => void) | null;
  subscribe(topic: string): void;
  publish(topic: string, data: ToolMessage): void;
}

/** The one room every connection to the fan-out server joins. */
export const ROOM = 'room';

/**
 * The echo server's handler: every message goes back to its sender.
 *
 * @example
 * ```ts
 * const server = await serve({ port: 0, handler: echoBack });
 * ```
 */
export function echoBack(connection: EchoingConnection): void {
  // Strings are sent as text and bytes as binary: the message keeps its type.
  connection.onmessage = (data) => {
    connection.send(data);
  };
}

/**
 * The fan-out server's handler: the connection joins {@link ROOM}, and every message it
 * sends goes to every other connection in the room.
 *
 * @example
 * ```ts
 * const server = await serve({ port: 0, handler: joinRoom });
 * ```
 */
export function joinRoom(connection: RoomConnection): void {
  // The room is a topic: a publish is framed once and written to every subscriber but
  // the sender; a closed connection leaves it by itself.
  connection.subscribe(ROOM);
  // Strings are published as text and bytes as binary: the message keeps its type.
  connection.onmessage = (data) => {
    connection.publish(ROOM, data);
  };
}
