/**
 * The frame log of one WebSocket connection, streamed to its page as Server-Sent Events.
 *
 * The log travels over its own HTTP response, not over the WebSocket: sending each
 * description on the WebSocket would itself be a frame to describe, forever.
 * @module
 */
import type { ServerResponse } from 'node:http';
import type { FrameDescription } from './frame_tap.ts';

/** Descriptions kept for a page that subscribes late (or reloads its stream). */
const KEPT = 200;

/** The recent frames of one connection and the event streams that follow them. */
export class FrameLog {
  readonly #frames: FrameDescription[] = [];
  readonly #streams = new Set<ServerResponse>();
  #ended: string | null = null;

  /** Records a frame and sends it to every subscribed page. */
  add(frame: FrameDescription): void {
    this.#frames.push(frame);
    if (this.#frames.length > KEPT) this.#frames.shift();
    const event = `data: ${JSON.stringify(frame)}\n\n`;
    for (const stream of this.#streams) stream.write(event);
  }

  /**
   * Answers `GET /frames?id=…`: replays the kept frames, then follows new ones until the
   * connection ends (then an `end` event says how, and the response ends).
   */
  subscribe(response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    for (const frame of this.#frames) response.write(`data: ${JSON.stringify(frame)}\n\n`);
    if (this.#ended !== null) {
      response.end(this.#ended);
      return;
    }
    this.#streams.add(response);
    response.once('close', () => this.#streams.delete(response));
  }

  /** The connection is closed: tell the pages how, and end their streams. Idempotent. */
  end(info: { closeCode: number; reason: string; wasClean: boolean }): void {
    if (this.#ended !== null) return;
    this.#ended = `event: end\ndata: ${JSON.stringify(info)}\n\n`;
    for (const stream of this.#streams) stream.end(this.#ended);
    this.#streams.clear();
  }
}
