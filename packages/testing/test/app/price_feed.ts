/**
 * A module as an application writes it against the `ws` package's client: it knows
 * nothing of tests. The test mocks 'ws' with @wsflow/testing/ws.
 */
import WebSocket from 'ws';

/** Subscribes to prices of `symbol`; calls `onPrice` with each; resolves the socket once open. */
export function subscribePrices(url: string, symbol: string, onPrice: (price: number) => void): Promise<WebSocket> {
  const ws = new WebSocket(url, 'prices.v1', { headers: { 'x-api-key': 'k-123' } });
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) return;
    const update = JSON.parse(data.toString()) as { symbol: string; price: number };
    if (update.symbol === symbol) onPrice(update.price);
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.send(JSON.stringify({ subscribe: symbol }));
      resolve(ws);
    });
    ws.once('error', reject);
  });
}
