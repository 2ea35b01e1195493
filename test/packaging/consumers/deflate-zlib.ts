// A consumer of @wsflow/deflate-zlib's public declarations (type-checked by test/packaging/dts.test.ts).
import type { DeflateEngine } from '@wsflow/codec';
import { createZlibEngine, zlibEngine } from '@wsflow/deflate-zlib';

export const engines: DeflateEngine[] = [zlibEngine, createZlibEngine()];
