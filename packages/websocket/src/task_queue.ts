/**
 * The WebSocket task source: the facade's events fire in tasks queued here, never
 * synchronously inside `send()`, `close()` or the constructor (WebSockets Standard,
 * "Feedback from the protocol": "the user agent must queue a task").
 *
 * One queue serves every `WebSocket` and `WebSocketStream` of the realm, in order. Each
 * task runs in its own promise job, so the microtasks a handler queues run before the
 * next task, as after a task in the HTML event loop. Promise jobs, not timers: delivery
 * keeps working under fake timers, and `flush()` of the test server can wait for it.
 * @module
 */
import { noteActivity } from './activity.ts';

const queue: Array<() => void> = [];
let scheduled = false;

function runOne(): void {
  const task = queue.shift();
  if (task !== undefined) {
    noteActivity();
    try {
      task();
    } catch (error) {
      // A task's own failure (not a listener's: EventTarget reports those) is reported,
      // and does not stop the queue.
      void Promise.reject(error);
    }
  }
  // Scheduled after the task: the microtasks it queued run first.
  if (queue.length > 0) void Promise.resolve().then(runOne);
  else scheduled = false;
}

/**
 * Queues a task on the WebSocket task source.
 *
 * @example
 * ```ts
 * queueTask(() => socket.dispatchEvent(new Event('open')));
 * ```
 */
export function queueTask(task: () => void): void {
  queue.push(task);
  noteActivity();
  if (!scheduled) {
    scheduled = true;
    void Promise.resolve().then(runOne);
  }
}
