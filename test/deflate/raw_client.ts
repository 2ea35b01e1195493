/**
 * A WebSocket client on a raw `node:net` socket for the hostile cases: it writes exactly the
 * handshake it is given (any `Sec-WebSocket-Extensions` field lines) and exactly the frames
 * it is given (RSV1 set on anything), and reads the server's frames with the codec's parser.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { FrameParser, serializeFrame, type Frame } from '@wsflow/codec';

/** What the server did next. */
export type RawEvent = { type: 'frame'; frame: Frame } | { type: 'end' } | { type: 'timeout' } | { type: 'error'; message: string };

export class RawClient {
  /** The status code of the server's answer. */
  readonly status: number;
  /** The server's answer head. */
  readonly head: string;
  readonly #socket: Socket;
  readonly #events: RawEvent[] = [];
  #waiter: ((event: RawEvent) => void) | null = null;
  #ended = false;
  readonly #parser: FrameParser;

  private constructor(socket: Socket, head: string, rest: Buffer) {
    this.#socket = socket;
    this.head = head;
    this.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
    this.#parser = new FrameParser(
      { role: 'client', maxPayload: 128 * 1024 * 1024, allowedRsv: 0x40 },
      {
        frameHeader: () => {},
        framePartial: () => {},
        frame: (fin, rsv, opcode, payload) => this.#push({ type: 'frame', frame: { fin, rsv1: (rsv & 0x40) !== 0, rsv2: false, rsv3: false, opcode, payload: payload.slice() } }),
      },
    );
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('close', () => this.#end({ type: 'end' }));
    socket.on('error', (error) => this.#end({ type: 'error', message: error.message }));
    if (rest.length > 0) this.#receive(rest);
  }

  /**
   * Connects to 127.0.0.1:`port` and sends an upgrade request for `path` with these
   * `Sec-WebSocket-Extensions` field lines (each written as its own line); resolves with the answer.
   */
  static open(port: number, extensionLines: readonly string[], path = '/echo', timeoutMs = 10_000): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const timer = setTimeout(() => (socket.destroy(), reject(new Error('no answer to the upgrade request'))), timeoutMs);
      let buffered = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        buffered = Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('error', onError);
        resolve(new RawClient(socket, buffered.subarray(0, end + 4).toString('latin1'), buffered.subarray(end + 4)));
      };
      const onError = (error: Error): void => (clearTimeout(timer), reject(error));
      socket.on('data', onData);
      socket.on('error', onError);
      socket.on('close', () => (clearTimeout(timer), reject(new Error(`the server closed without answering (${buffered.length} octets)`))));
      socket.on('connect', () => {
        const key = randomBytes(16).toString('base64');
        const lines = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13'];
        for (const value of extensionLines) lines.push(`Sec-WebSocket-Extensions: ${value}`);
        socket.write(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
      });
    });
  }

  /** The `Sec-WebSocket-Extensions` of the answer ('' when absent). */
  get extensions(): string {
    return this.head
      .split('\r\n')
      .filter((line) => /^sec-websocket-extensions\s*:/i.test(line))
      .map((line) => line.slice(line.indexOf(':') + 1).trim())
      .join(', ');
  }

  /** Writes a frame, masked with a random key (RFC 6455 §5.3). */
  send(frame: Frame): void {
    if (!this.#socket.destroyed) this.#socket.write(serializeFrame(frame, randomBytes(4).readUInt32BE(0)));
  }

  /** The next frame, or how the connection ended, waiting until `deadline` (a `Date.now()` time). */
  next(deadline: number): Promise<RawEvent> {
    const queued = this.#events.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#ended) return Promise.resolve({ type: 'end' });
    return new Promise((resolve) => {
      const timer = setTimeout(() => ((this.#waiter = null), resolve({ type: 'timeout' })), Math.max(0, deadline - Date.now()));
      this.#waiter = (event) => (clearTimeout(timer), (this.#waiter = null), resolve(event));
    });
  }

  /** Reads frames until a Close (its code) or the end (null), skipping data and Pings. */
  async closeCode(deadline: number): Promise<number | null> {
    for (;;) {
      const event = await this.next(deadline);
      if (event.type !== 'frame') return null;
      if (event.frame.opcode === 0x8) return event.frame.payload.length >= 2 ? (event.frame.payload[0] << 8) | event.frame.payload[1] : 1005;
    }
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #receive(chunk: Buffer): void {
    try {
      this.#parser.push(chunk);
    } catch (error) {
      this.#end({ type: 'error', message: (error as Error).message });
    }
  }

  #push(event: RawEvent): void {
    if (this.#waiter !== null) this.#waiter(event);
    else this.#events.push(event);
  }

  #end(event: RawEvent): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#push(event);
  }
}
