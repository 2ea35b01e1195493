/**
 * Polling for the repo's process tests (`test/tools`, `test/demo`): wait until what a child
 * process's clients received says that something happened, bounded in time.
 * @module
 */

/**
 * Waits until `check` holds, polling every 10 ms; throws `timed out waiting for WHAT`
 * after 10 s.
 *
 * @example
 * ```ts
 * await until(() => client.received.length === 1, 'the first message');
 * ```
 */
export async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
