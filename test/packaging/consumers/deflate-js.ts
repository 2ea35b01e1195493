// A consumer of @wsflow/deflate-js's public declarations (type-checked by test/packaging/dts.test.ts).
import type { DeflateEngine } from '@wsflow/codec';
import { jsDeflateEngine } from '@wsflow/deflate-js';

export const engine: DeflateEngine = jsDeflateEngine;
