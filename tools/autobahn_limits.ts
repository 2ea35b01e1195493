/**
 * The receive limits the conformance tools run with. Autobahn|Testsuite sends messages of
 * up to 16 MiB (cases 9.1.6 and 9.2.6) and 4 MiB messages in 64-byte fragments, 65 536 of
 * them (case 9.3.1); the limits leave headroom above both while staying bounded.
 * @module
 */
import type { Limits } from '@wsflow/codec';

const MiB = 1024 * 1024;

/** 64 MiB per frame and per message; four times the fragments Autobahn's 9.3.1 sends. */
export const AUTOBAHN_LIMITS = {
  maxPayload: 64 * MiB,
  maxMessage: 64 * MiB,
  maxFragments: 4 * 65536,
} as const satisfies Required<Limits>;
