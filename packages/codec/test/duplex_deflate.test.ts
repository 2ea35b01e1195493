// permessage-deflate over the codec's own duplex handshakes (any byte streams, in any
// runtime or a browser), with the engine named in the options.
import { describe, expect, it } from 'vitest';
import { clientHandshake, serverHandshake, type ByteDuplex } from '../src/duplex.ts';
import { HandshakeError } from '../src/errors.ts';
import { createDuplexPair } from '../src/memory_duplex.ts';
import { storedEngine } from './stored_deflate_engine.ts';

const URL_ = 'ws://example.com/chat';

/** Records the first octet of every frame-carrying chunk the client end writes. */
function tap(duplex: ByteDuplex, seen: Uint8Array[]): ByteDuplex {
  const writer = duplex.writable.getWriter();
  return {
    readable: duplex.readable,
    writable: new WritableStream<Uint8Array>({
      write: (chunk) => {
        seen.push(chunk.slice());
        return writer.write(chunk);
      },
      close: () => writer.close(),
      abort: (reason) => writer.abort(reason),
    }),
  };
}

describe('permessage-deflate over duplex handshakes', () => {
  it('negotiates when both ends name an engine, and messages go compressed both ways', async () => {
    const clientEngine = storedEngine();
    const serverEngine = storedEngine();
    const [a, b] = createDuplexPair();
    const written: Uint8Array[] = [];
    const [client, server] = await Promise.all([
      clientHandshake(tap(a, written), URL_, { perMessageDeflate: { engine: clientEngine, threshold: 0 } }),
      serverHandshake(b, { perMessageDeflate: { engine: serverEngine, threshold: 0 } }),
    ]);
    expect(client.extensions).toBe('permessage-deflate');
    expect(server.extensions).toBe('permessage-deflate');
    const got: unknown[] = [];
    server.onmessage = (m) => {
      got.push(m);
      server.send(m);
    };
    const back = new Promise<unknown>((resolve) => (client.onmessage = resolve));
    client.send('Hello');
    expect(await back).toBe('Hello');
    expect(got).toEqual(['Hello']);
    expect([clientEngine.deflated, serverEngine.inflated, serverEngine.deflated, clientEngine.inflated]).toEqual([1, 1, 1, 1]);
    // The frame the client wrote after its request: FIN, RSV1, text.
    expect(written.some((chunk) => chunk[0] === 0xc1)).toBe(true);
    client.close();
    await Promise.all([client.closed, server.closed]);
  });

  it('stays uncompressed when only the client offers', async () => {
    const [a, b] = createDuplexPair();
    const [client, server] = await Promise.all([
      clientHandshake(a, URL_, { perMessageDeflate: { engine: storedEngine() } }),
      serverHandshake(b),
    ]);
    expect(client.extensions).toBe('');
    const got = new Promise<unknown>((resolve) => (server.onmessage = resolve));
    client.send('plain');
    expect(await got).toBe('plain');
    client.close();
    await Promise.all([client.closed, server.closed]);
  });

  it('fails the client handshake when the server accepts a deflate it did not offer that way', async () => {
    const [a, b] = createDuplexPair();
    const server = serverHandshake(b, {
      negotiateExtensions: () => [{ name: 'permessage-deflate', params: [['client_max_window_bits', '10']] }],
    }).catch((e: unknown) => e);
    // The client offers client_max_window_bits=9: an answer of 10 is larger than offered (RFC 7692 §7.1.2.2).
    await expect(clientHandshake(a, URL_, { perMessageDeflate: { engine: storedEngine(), clientMaxWindowBits: 9 } })).rejects.toThrow(HandshakeError);
    await server;
  });

  it('refuses both extensions and perMessageDeflate on one side', async () => {
    const [a, b] = createDuplexPair();
    await expect(clientHandshake(a, URL_, { extensions: 'x-foo', perMessageDeflate: { engine: storedEngine() } })).rejects.toThrow(TypeError);
    await expect(serverHandshake(b, { negotiateExtensions: () => [], perMessageDeflate: { engine: storedEngine() } })).rejects.toThrow(TypeError);
  });
});
