// The engine inside real connections: the codec's duplex handshakes negotiate
// permessage-deflate with it, and messages of every size cross compressed, both ways,
// with and without context takeover. Runs wherever the suite runs (Node, Deno, Bun, Chromium).
import { describe, expect, it } from 'vitest';
import { clientHandshake, createDuplexPair, serverHandshake, type Message, type PerMessageDeflateOptions } from '@wsflow/codec';
import { jsDeflateEngine } from '../src/index.ts';

async function open(client: PerMessageDeflateOptions, server: PerMessageDeflateOptions) {
  const [a, b] = createDuplexPair();
  const [c, s] = await Promise.all([
    clientHandshake(a, 'ws://example.com/', { perMessageDeflate: { engine: jsDeflateEngine, ...client } }),
    serverHandshake(b, { perMessageDeflate: { engine: jsDeflateEngine, ...server } }),
  ]);
  return { c, s };
}

function messages(): Message[] {
  const json = JSON.stringify(Array.from({ length: 400 }, (_, i) => ({ id: i, name: `user-${i}`, tags: ['a', 'b'] })));
  const out: Message[] = ['', 'x', 'héllo wörld 🎉'.repeat(40), json, json.slice(0, 1000), new Uint8Array(70_000).fill(7)];
  for (let i = 0; i < 30; i++) out.push(`{"seq":${i},"payload":"${'abc'.repeat(i * 20)}"}`);
  return out;
}

describe('jsDeflateEngine in a connection', () => {
  for (const [name, client, server] of [
    ['context takeover', {}, {}],
    ['no context takeover either way, small windows', { clientNoContextTakeover: true, clientMaxWindowBits: 10 }, { serverNoContextTakeover: true, serverMaxWindowBits: 11 }],
  ] as const) {
    it(`echoes every message intact (${name})`, async () => {
      const { c, s } = await open({ threshold: 0, ...client }, { threshold: 0, ...server });
      expect(c.extensions.startsWith('permessage-deflate')).toBe(true);
      s.onmessage = (m) => s.send(m);
      const sent = messages();
      const got: Message[] = [];
      const done = new Promise<void>((resolve) => {
        c.onmessage = (m) => {
          got.push(m);
          if (got.length === sent.length) resolve();
        };
      });
      for (const m of sent) c.send(m);
      await done;
      expect(got.map((m) => (typeof m === 'string' ? m : Array.from(m).join(',')))).toEqual(sent.map((m) => (typeof m === 'string' ? m : Array.from(m).join(','))));
      c.close();
      await Promise.all([c.closed, s.closed]);
    });
  }
});
