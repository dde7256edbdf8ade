/**
 * Waiting for what a server does in the background (a code sent, a row written, a change
 * announced): poll until it shows, rather than sleep a fixed time a loaded machine may overrun.
 *
 * @example
 *   const code = await eventually('the code is sent', () => messages().find(isCode)?.code);
 */
export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The first truthy value `check` gives, polled every 100 ms; throws after `ms` (10 s) naming `what`. */
export async function eventually<T>(
  what: string,
  check: () => T | Promise<T>,
  ms = 10_000,
): Promise<NonNullable<T>> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() - started > ms) throw new Error(`not within ${ms / 1000} s: ${what}`);
    await pause(100);
  }
}
