// @wsflow/redis: a Redis pub/sub backplane for wsflow topics. This file only re-exports.
export type { Backplane } from '@wsflow/engine';
export { FRAME, decodeFrame, encodeFrame, type DecodedFrame } from './frame.ts';
export { RedisBackplane, type RedisBackplaneOptions, type RedisBackplaneStats, type RedisClientLike } from './redis_backplane.ts';
