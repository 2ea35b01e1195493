// The echo-and-command bot every peer runs (the Python one in peers/py_peer.py mirrors it):
// it echoes messages and obeys text commands starting with PREFIX.
import { WebSocket as WsClient, type RawData } from 'ws';
import type { PeerEvents } from './peer_events.ts';

export const PREFIX = '@@cmd ';
/** 1 + 2 + 3 + 4 UTF-8 bytes: every fragment boundary by bytes splits some code point. */
export const TEXT_UNIT = 'a\u00e9\u20ac\u{1F600}';

/** What `@@cmd fragments <kind> <n> <size>` sends, reassembled. */
export function fragmentContent(kind: 'text', size: number): string;
export function fragmentContent(kind: 'binary', size: number): Uint8Array;
export function fragmentContent(kind: 'text' | 'binary', size: number): string | Uint8Array {
  if (kind === 'text') return TEXT_UNIT.repeat(Math.floor(size / 10));
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = i % 251;
  return bytes;
}

function split(bytes: Buffer, n: number): Buffer[] {
  if (n <= 1 || bytes.length === 0) return [bytes];
  const step = Math.ceil(bytes.length / n);
  const parts: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += step) parts.push(bytes.subarray(at, at + step));
  return parts;
}

/** Runs the bot on a `ws` socket (client or server side). */
export function runWsBot(ws: WsClient, id: string, events: PeerEvents): void {
  events.emit(id, 'open', { protocol: ws.protocol });
  ws.on('error', () => {});
  ws.on('close', (code, reason) => events.emit(id, 'closed', { code, reason: reason.toString('utf8') }));
  ws.on('message', (data: RawData, isBinary: boolean) => {
    const bytes = data as Buffer;
    if (isBinary) {
      ws.send(bytes, { binary: true });
      return;
    }
    const text = bytes.toString('utf8');
    if (!text.startsWith(PREFIX)) {
      ws.send(text);
      return;
    }
    const [name, ...args] = text.slice(PREFIX.length).split(' ');
    const rest = args.join(' ');
    switch (name) {
      case 'close':
        ws.close(Number(args[0]), args.slice(1).join(' '));
        break;
      case 'ping':
        ws.once('pong', (payload: Buffer) => ws.send(`pong ${payload.toString('utf8')}`));
        ws.ping(Buffer.from(rest, 'utf8'));
        break;
      case 'fragments': {
        const kind = args[0] as 'text' | 'binary';
        const content = kind === 'text' ? Buffer.from(fragmentContent('text', Number(args[2])), 'utf8') : Buffer.from(fragmentContent('binary', Number(args[2])));
        const parts = split(content, Number(args[1]));
        parts.forEach((part, i) => ws.send(part, { binary: kind === 'binary', fin: i === parts.length - 1 }));
        break;
      }
      case 'protocol':
        ws.send(`protocol ${ws.protocol}`);
        break;
      case 'terminate':
        ws.terminate();
        break;
      default:
        ws.send(`unknown ${name}`);
    }
  });
}
