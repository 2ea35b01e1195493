// What a connection does when the user's own callbacks throw: the user's bug closes that
// connection with 1011 (RFC 6455 §7.4.1, an unexpected condition) and is reported; it never
// unwinds the parser or escapes into the transport's event (which would end a Node process).
import { describe, expect, it } from 'vitest';
import { Opcode, WebSocketConnection, isValidHost, type ByteTransport } from '../src/index.ts';
import { concatList, decodeWritten, wire } from './helpers.ts';

/** A transport that keeps what the connection writes. */
class KeptTransport implements ByteTransport {
  readonly writes: Uint8Array[] = [];
  readonly bufferedAmount = 0;
  write(chunk: Uint8Array): void {
    this.writes.push(chunk.slice());
  }
  end(): void {}
  destroy(): void {}
  pause(): void {}
  resume(): void {}
}

function closeCodeWritten(transport: KeptTransport): number | null {
  const close = decodeWritten('server', concatList(transport.writes)).find((f) => f.opcode === Opcode.Close);
  return close === undefined ? null : (close.payload[0] << 8) | close.payload[1];
}

describe('a connection whose callback throws', () => {
  it('server closes with 1011 when onmessage throws, reports once, and still parses the rest of the read', () => {
    const transport = new KeptTransport();
    const reported: unknown[] = [];
    const conn = new WebSocketConnection(transport, { role: 'server', onCallbackError: (error) => void reported.push(error) });
    const seen: unknown[] = [];
    conn.onmessage = (data) => {
      seen.push(data);
      if (data === 'first') throw new Error('user bug');
    };
    // Two messages in one read: the second is delivered although the first threw.
    expect(() => conn.receive(wire('server', [Opcode.Text, 'first'], [Opcode.Text, 'second']))).not.toThrow();
    expect(seen).toEqual(['first', 'second']);
    expect(reported.map((e) => (e as Error).message)).toEqual(['user bug']);
    expect(closeCodeWritten(transport)).toBe(1011);
    expect(conn.state).toBe('closing');
  });

  for (const name of ['onping', 'onpong', 'onclosing'] as const) {
    it(`server closes with 1011 when ${name} throws`, () => {
      const transport = new KeptTransport();
      const reported: unknown[] = [];
      const conn = new WebSocketConnection(transport, { role: 'server', onCallbackError: (error) => void reported.push(error) });
      conn[name] = () => {
        throw new Error(`${name} bug`);
      };
      const frame = name === 'onping' ? wire('server', [Opcode.Ping, 'p']) : name === 'onpong' ? wire('server', [Opcode.Pong, 'p']) : wire('server', [Opcode.Close, new Uint8Array([0x03, 0xe8])]);
      expect(() => conn.receive(frame)).not.toThrow();
      expect(reported).toHaveLength(1);
      // A Close from the peer was answered already: the reply's code is the peer's (1000).
      expect(closeCodeWritten(transport)).toBe(name === 'onclosing' ? 1000 : 1011);
    });
  }

  it('reports a throwing onclose without rethrowing from transportClosed', () => {
    const reported: unknown[] = [];
    const conn = new WebSocketConnection(new KeptTransport(), { role: 'client', onCallbackError: (error) => void reported.push(error) });
    conn.onclose = () => {
      throw new Error('onclose bug');
    };
    expect(() => conn.transportClosed()).not.toThrow();
    expect(reported.map((e) => (e as Error).message)).toEqual(['onclose bug']);
  });

  it('without onCallbackError still closes with 1011 and does not throw', () => {
    const transport = new KeptTransport();
    const conn = new WebSocketConnection(transport, { role: 'server' });
    conn.onmessage = () => {
      throw new Error('unreported bug (printed on stderr)');
    };
    const originalError = console.error;
    const printed: unknown[][] = [];
    console.error = (...args: unknown[]) => void printed.push(args);
    try {
      expect(() => conn.receive(wire('server', [Opcode.Text, 'x']))).not.toThrow();
    } finally {
      console.error = originalError;
    }
    expect(closeCodeWritten(transport)).toBe(1011);
    expect(printed).toHaveLength(1);
  });
});

describe('isValidHost (RFC 9110 §7.2)', () => {
  it('takes names, IPv4, bracketed IPv6 and ports', () => {
    for (const host of ['example.com', 'example.com:8080', '127.0.0.1:1', '[::1]', '[::1]:443', 'xn--bcher-kva.example', 'a%20b']) expect(isValidHost(host)).toBe(true);
  });

  it('refuses what would move a URL path, query, fragment or user info, and whitespace', () => {
    for (const host of ['', 'x/admin?', 'x?token=forged&z=', 'x#f', 'user@x', 'x y', 'x\t', '[::1', 'x:80:80', 'x:port']) expect(isValidHost(host)).toBe(false);
  });
});
