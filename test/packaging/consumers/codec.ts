// A consumer of @wsflow/codec's public declarations (type-checked by test/packaging/dts.test.ts).
import * as codec from '@wsflow/codec';
import { acceptKey, FrameDecoderStream, WebSocketProtocol, type Frame } from '@wsflow/codec';

export const names: string[] = Object.keys(codec);
export const accept: Promise<string> = acceptKey('dGhlIHNhbXBsZSBub25jZQ==');
export const decoder: TransformStream<Uint8Array, Frame> = new FrameDecoderStream({ role: 'server' });
export function echo(chunk: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const ws = new WebSocketProtocol({ role: 'server' }, { write: (b) => out.push(b), onText: (t) => ws.sendText(t) });
  ws.receiveData(chunk);
  return out;
}
