// Opening a `ws` client as a promise: the socket once open, or the refusal status.
import { WebSocket as WsClient, type ClientOptions } from 'ws';

export class Refused extends Error {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string | string[] | undefined>,
  ) {
    super(`refused with ${status}`);
  }
}

export function wsOpen(url: string, protocols: string[] = [], options: ClientOptions = {}): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const ws = new WsClient(url, protocols, { perMessageDeflate: false, ...options });
    ws.on('error', reject);
    ws.once('open', () => {
      ws.off('error', reject);
      ws.on('error', () => {});
      resolve(ws);
    });
    ws.once('unexpected-response', (request, response) => {
      reject(new Refused(response.statusCode ?? 0, response.headers));
      request.destroy();
    });
  });
}

export function nextMessage(ws: WsClient): Promise<string> {
  return new Promise((resolve) => ws.once('message', (data: Buffer) => resolve(data.toString('utf8'))));
}

export function wsClosed(ws: WsClient): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString('utf8') })));
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
