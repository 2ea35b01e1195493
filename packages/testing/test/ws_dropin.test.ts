/**
 * Code that imports the `ws` package's client, tested against a TestServer by mocking
 * 'ws' with @wsflow/testing/ws — the way a user would.
 */
import '@wsflow/testing/vitest';
import { TestServer } from '@wsflow/testing';
import { describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { subscribePrices } from './app/price_feed.ts';

vi.mock('ws', () => import('@wsflow/testing/ws'));

describe('@wsflow/testing/ws as the ws package', () => {
  it('carries an app module written against ws to the TestServer: headers, subprotocol, messages', async () => {
    const server = new TestServer<{ subscribe: string } | { symbol: string; price: number }>('ws://prices.test/feed', {
      json: true,
      protocols: ['prices.v1'],
    });
    const prices: number[] = [];
    const ws = await subscribePrices('ws://prices.test/feed', 'ACME', (price) => prices.push(price));
    const client = await server.nextConnection();
    expect(client.headers.get('x-api-key')).toBe('k-123');
    expect(client.protocol).toBe('prices.v1');
    expect(ws.protocol).toBe('prices.v1');
    await expect(client).toReceiveMessage({ subscribe: 'ACME' });
    client.send({ symbol: 'OTHER', price: 1 });
    client.send({ symbol: 'ACME', price: 42.5 });
    await server.flush();
    expect(prices).toEqual([42.5]);
  });

  it('emits message (Buffer, isBinary), ping/pong, and close (code, reason Buffer) as ws does', async () => {
    const server = new TestServer('ws://ws-events.test/');
    const ws = new WebSocket('ws://ws-events.test/');
    const events: unknown[] = [];
    ws.on('message', (data, isBinary) => events.push(['message', Buffer.isBuffer(data) ? data.toString('hex') : data, isBinary]));
    ws.on('pong', (data) => events.push(['pong', data.toString()]));
    ws.on('close', (code, reason) => events.push(['close', code, reason.toString()]));
    await new Promise((resolve) => ws.once('open', resolve));
    expect(ws.readyState).toBe(WebSocket.OPEN);
    const client = await server.nextConnection();
    client.send('hi');
    client.send(new Uint8Array([1, 2]));
    ws.ping('p');
    ws.send(Buffer.from([9]));
    await server.flush();
    await expect(client).toReceiveMessage(new Uint8Array([9]));
    expect(client.pings.map((p) => new TextDecoder().decode(p))).toEqual(['p']);
    client.close(4002, 'bye');
    await server.flush();
    expect(events).toEqual([
      ['message', '6869', false],
      ['message', '0102', true],
      ['pong', 'p'],
      ['close', 4002, 'bye'],
    ]);
    expect(ws.readyState).toBe(WebSocket.CLOSED);
  });

  it('dials an http: address as ws: and an https: one as wss:, and refuses other schemes as ws does', async () => {
    const plain = new TestServer('ws://ws-http.test/');
    const secure = new TestServer('wss://ws-http.test/');
    const a = new WebSocket('http://ws-http.test/');
    const b = new WebSocket('https://ws-http.test/');
    expect([a.url, b.url]).toEqual(['ws://ws-http.test/', 'wss://ws-http.test/']);
    await plain.nextConnection();
    await secure.nextConnection();
    expect(() => new WebSocket('ftp://ws-http.test/')).toThrow(SyntaxError);
  });

  it('fails as ws does where nothing listens: error, then close 1006', async () => {
    const ws = new WebSocket('ws://nobody.test/');
    const events: unknown[] = [];
    ws.on('error', (error) => events.push(['error', error.message]));
    ws.on('close', (code) => events.push(['close', code]));
    await new Promise((resolve) => ws.once('close', resolve));
    expect(events).toEqual([
      ['error', expect.stringMatching(/no server listens on ws:\/\/nobody\.test\//)],
      ['close', 1006],
    ]);
  });

  it('terminate() drops the connection: the server sees 1006', async () => {
    const server = new TestServer('ws://ws-terminate.test/');
    const ws = new WebSocket('ws://ws-terminate.test/');
    await new Promise((resolve) => ws.once('open', resolve));
    const client = await server.nextConnection();
    ws.terminate();
    await expect(client).toBeClosedWith(1006);
  });
});
