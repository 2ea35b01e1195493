// Types for mask.mjs, so that TypeScript tests can import the assembler's output.
/** The hand-assembled masking module's bytes. */
export declare const wasmBytes: Uint8Array;
/** Whether this runtime accepts the module. */
export declare const wasmSimdSupported: boolean;
