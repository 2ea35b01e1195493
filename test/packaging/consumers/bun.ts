// A consumer of @wsflow/bun's public declarations (type-checked by test/packaging/dts.test.ts).
import * as bun from '@wsflow/bun';
import { connect, serve } from '@wsflow/bun';

export const names: string[] = Object.keys(bun);
export const entryPoints: unknown[] = [serve, connect];
