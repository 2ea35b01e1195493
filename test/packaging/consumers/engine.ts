// A consumer of @wsflow/engine's public declarations (type-checked by test/packaging/dts.test.ts).
import * as engine from '@wsflow/engine';
import * as pub from '@wsflow/engine/public';
import { parseCookies, type WebSocketConnection } from '@wsflow/engine/public';

export const names: string[] = [...Object.keys(engine), ...Object.keys(pub)];
export const cookies: Map<string, string> | Record<string, string> | unknown = parseCookies('a=1; b=2');
export function greet(connection: WebSocketConnection): void {
  connection.send('hello');
}
