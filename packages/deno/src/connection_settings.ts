/**
 * What the engines need of Deno besides sockets: unref'd timers, `node:zlib` for
 * permessage-deflate, and reads handed over (`mutableInput`: each read lands in a region of
 * a slab nothing writes again).
 * @module
 */
import { zlibEngine } from '@wsflow/deflate-zlib';
import type { RuntimeAdapter } from '@wsflow/engine';
import { denoTimers } from './deno_timers.ts';

/** What the engines need of Deno besides sockets. */
export const denoAdapter: RuntimeAdapter = {
  timers: denoTimers,
  deflateEngine: zlibEngine,
  mutableInput: true,
  later: (callback) => void setTimeout(callback, 0),
};
