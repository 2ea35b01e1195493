// A consumer of @wsflow/node's public declarations (type-checked by test/packaging/dts.test.ts).
import * as node from '@wsflow/node';
import { connect, serve, WebSocket } from '@wsflow/node';

export const names: string[] = Object.keys(node);
export async function run(): Promise<void> {
  const server = await serve({ port: 0, handler: (conn) => {
    conn.send('hi');
  } });
  const client = await connect(server.url);
  client.close({ closeCode: 1000, reason: 'done' });
  new WebSocket(server.url).close();
  await server.close();
}
