/**
 * What a published message costs with permessage-deflate, per way of compressing it: one
 * in-process server's topic with N subscribers over null transports (no sockets: the
 * figures are the CPU of framing and compressing, and the bytes that would go on the wire).
 *
 * - `shared`: every subscriber negotiated `server_no_context_takeover` (what
 *   `perMessageDeflate: { sharedCompressor: true }` asks for): one compression per publish.
 * - `takeover`: the default agreement: each subscriber's own deflater compresses it (with
 *   its history, so repeated JSON keys compress better).
 * - `plain`: published with `{ compress: false }`: framed once, sent as it is.
 *
 * Bounded: `--subscribers` (default 200) × `--messages` (default 200) per mode, once each.
 * Build first (`npm run build`): it imports `dist/`.
 *
 * ```sh
 * node bench/publish_compression.mjs [--subscribers 200] [--messages 200]
 * ```
 */
import { parseArgs } from 'node:util';
import { PerMessageDeflate } from '@wsflow/codec';
import { zlibEngine } from '@wsflow/deflate-zlib';
import { ServerConnection, TopicHub } from '@wsflow/engine';

const { values } = parseArgs({ options: { subscribers: { type: 'string', default: '200' }, messages: { type: 'string', default: '200' } } });
const subscribers = Number(values.subscribers);
const messages = Number(values.messages);

/** A transport that counts what it is handed and keeps nothing. */
class NullTransport {
  bytes = 0;
  bufferedAmount = 0;
  write(chunk) {
    this.bytes += chunk.length;
  }
  end() {}
  destroy() {}
  pause() {}
  resume() {}
}

/** A JSON update of the kind a ticker publishes: the same keys every time, changing values. */
const update = (i) => JSON.stringify({ type: 'quote', symbol: 'EURUSD', bid: 1.0841 + i / 1e4, ask: 1.0843 + i / 1e4, time: 1_700_000_000_000 + i, venue: 'primary', depth: [[1.0841, 1_000_000], [1.084, 2_500_000], [1.0839, 5_000_000]] });

async function run(mode) {
  const topics = new TopicHub();
  const transports = [];
  for (let i = 0; i < subscribers; i++) {
    const transport = new NullTransport();
    const agreement = { serverNoContextTakeover: mode === 'shared', clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
    const conn = new ServerConnection(transport, { role: 'server', perMessageDeflate: new PerMessageDeflate('server', agreement, zlibEngine, { threshold: 0 }) }, topics);
    conn.subscribe('t');
    transports.push(transport);
  }
  const options = mode === 'plain' ? { compress: false } : undefined;
  const began = process.hrtime.bigint();
  for (let i = 0; i < messages; i++) {
    topics.publish('t', update(i), options);
    await Promise.resolve(); // the corked writes go out
  }
  const ns = Number(process.hrtime.bigint() - began);
  const wire = transports.reduce((n, t) => n + t.bytes, 0);
  return { mode, usPerPublish: (ns / messages / 1000).toFixed(1), bytesPerMessage: (wire / subscribers / messages).toFixed(1) };
}

console.log(`${subscribers} subscribers, ${messages} messages of ${update(0).length} octets (JSON), zlib level 6`);
for (const mode of ['shared', 'takeover', 'plain']) console.log(await run(mode));
