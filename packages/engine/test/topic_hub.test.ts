// The topic hub over in-memory transports: a burst of publishes is one transport write per
// subscriber per turn (and a lone message is written as the very buffer prepared once);
// the LocalBackplane's delivery rules (no echo, only subscribed members, none after close).
import { describe, expect, it } from 'vitest';
import type { ByteTransport } from '@wsflow/codec';
import { LocalBackplane, ServerConnection, TopicHub } from '@wsflow/engine';

class CountingTransport implements ByteTransport {
  writes: Uint8Array[] = [];
  bufferedAmount = 0;
  write(chunk: Uint8Array): void {
    this.writes.push(chunk);
  }
  end(): void {}
  destroy(): void {}
  pause(): void {}
  resume(): void {}
}

function subscribers(topics: TopicHub, n: number, topic: string): Array<{ conn: ServerConnection; transport: CountingTransport }> {
  return Array.from({ length: n }, () => {
    const transport = new CountingTransport();
    const conn = new ServerConnection(transport, { role: 'server' }, topics);
    conn.subscribe(topic);
    return { conn, transport };
  });
}

describe('TopicHub', () => {
  it('writes a burst of publishes to each subscriber as one transport write, after the turn', async () => {
    const topics = new TopicHub();
    const subs = subscribers(topics, 3, 't');
    for (let i = 0; i < 5; i++) topics.publish('t', `m${i}`);
    subs[0].conn.send('direct'); // in order with the published ones
    for (const { transport } of subs) expect(transport.writes).toHaveLength(0);
    await Promise.resolve();
    for (const { transport } of subs) expect(transport.writes).toHaveLength(1);
    const text = new TextDecoder().decode(subs[0].transport.writes[0]);
    expect(text.match(/m\d|direct/g)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'direct']);
  });

  it('hands every subscriber the same buffer for a lone message', async () => {
    const topics = new TopicHub();
    const subs = subscribers(topics, 4, 't');
    expect(topics.publish('t', new Uint8Array([1, 2, 3]))).toBe(4);
    await Promise.resolve();
    const first = subs[0].transport.writes[0];
    for (const { transport } of subs) expect(transport.writes[0]).toBe(first);
  });
});

describe('LocalBackplane', () => {
  it('delivers to the other members subscribed to the topic, once, never back to the publisher', async () => {
    const hub = new LocalBackplane();
    const got: string[] = [];
    const members = [0, 1, 2].map((i) => {
      const member = hub.join();
      member.start((topic, data) => void got.push(`${i} ${topic} ${typeof data === 'string' ? data : [...data].join(',')}`));
      return member;
    });
    members[0].subscribe('t');
    members[1].subscribe('t');
    members[0].publish('t', 'x');
    const bytes = new Uint8Array([1, 2]);
    members[2].publish('t', bytes);
    bytes[0] = 9; // taken at publish
    members[1].unsubscribe('t');
    await Promise.resolve();
    expect(got).toEqual(['0 t 1,2']);
    await members[0].close();
    members[2].publish('t', 'after close');
    await Promise.resolve();
    expect(got).toEqual(['0 t 1,2']);
    expect(hub.size).toBe(2);
    expect(() => members[1].start(() => {})).toThrow(TypeError);
  });
});
