/**
 * The codec API the browser specs call, written down as types only: the specs are
 * checked against this contract rather than importing the codec's source types, so they
 * compile while the codec is still being written. Inside the page it is `globalThis.codec`.
 */
export interface Frame {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  payload: Uint8Array;
}

export type Role = 'client' | 'server';

export interface CodecApi {
  acceptKey(key: string): Promise<string>;
  generateKey(): string;
  Opcode: { Continuation: 0; Text: 1; Binary: 2; Close: 8; Ping: 9; Pong: 10 };
  WEBSOCKET_GUID: string;
  /** Bytes in, frames out; the server role unmasks (and requires masking). */
  FrameDecoderStream: new (options: { role: Role; maxPayload?: number }) => TransformStream<Uint8Array, Frame>;
  /** Frames in, bytes out; the client role masks with a random key. */
  FrameEncoderStream: new (options: { role: Role }) => TransformStream<Frame, Uint8Array>;
}

/** A frame as plain data, which survives `page.evaluate`'s serialisation. */
export interface PlainFrame {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  payload: number[];
}

/** Helpers installed in the page by `installPageHelpers` (see fixtures.ts). */
export interface PageHelpers {
  /** "81 05 48 65" -> bytes. */
  hex(text: string): Uint8Array;
  /** Writes `chunks` through `stream` and collects everything it outputs. */
  pipe<I, O>(stream: TransformStream<I, O>, chunks: I[]): Promise<O[]>;
  /** Concatenates byte chunks. */
  concat(chunks: Uint8Array[]): Uint8Array;
  /** Frame -> plain data. */
  plain(frame: Frame): PlainFrame;
}

declare global {
  // eslint-disable-next-line no-var
  var codec: CodecApi;
  // eslint-disable-next-line no-var
  var h: PageHelpers;
}
