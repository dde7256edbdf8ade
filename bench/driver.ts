/**
 * A small load driver over undici: many virtual users, each running one scenario step (a request
 * or a multi-request flow) in a loop, closed-loop for the maximum rate or paced for a fixed rate.
 * Paced, the steps are due evenly (every 1/rate s) and latency is measured from when a step was
 * due, so queueing counts too. The driver's own longest event-loop delay comes with a paced
 * result, so that a tail can be told from the driver's pauses.
 *
 * @example
 *   const result = await runLoad({ users: 32, seconds: 10, step: async () => { await get('/jwks'); } });
 *   result.perSecond; result.p99;
 */

import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface LoadOptions<U> {
  /** Concurrent virtual users. */
  users: number;
  seconds: number;
  /** Steps per second across all users; unset: as fast as the server answers (closed loop). */
  rate?: number;
  /** Creates a user's own state once (cookies, tokens). */
  setup?: (index: number) => Promise<U>;
  step: (user: U) => Promise<void>;
}

export interface LoadResult {
  steps: number;
  errors: number;
  firstError?: string;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  /** The driver's own longest event-loop delay during the run (ms), when paced. */
  driverDelayMax?: number;
}

export async function runLoad<U>(options: LoadOptions<U>): Promise<LoadResult> {
  const users = await Promise.all(
    Array.from({ length: options.users }, (_, i) => options.setup?.(i) as Promise<U>),
  );
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const interval = options.rate ? 1000 / options.rate : 0;
  let next = started;
  const delay = interval ? monitorEventLoopDelay({ resolution: 1 }) : undefined;
  delay?.enable();

  async function user(state: U) {
    while (true) {
      let due = performance.now();
      if (interval) {
        due = next;
        next += interval;
        if (due > deadline) return;
        if (due > performance.now()) await sleep(due - performance.now());
      } else if (due > deadline) {
        return;
      }
      // A timer may fire a little early: a step is timed from when it was due or, if it started
      // before that, from when it started.
      const from = Math.min(due, performance.now());
      try {
        await options.step(state);
        latencies.push(performance.now() - from);
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
      }
    }
  }

  await Promise.all(users.map(user));
  delay?.disable();
  return summary(latencies, { errors, firstError }, (performance.now() - started) / 1000, delay);
}

/** A run's result from its latencies (ms), errors, length (s) and the driver's own loop delay. */
export function summary(
  latencies: number[],
  failed: { errors: number; firstError?: string },
  seconds: number,
  delay?: { max: number },
): LoadResult {
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
  return {
    steps: latencies.length,
    errors: failed.errors,
    ...(failed.firstError && { firstError: failed.firstError }),
    perSecond: Math.round(latencies.length / seconds),
    p50: at(0.5),
    p99: at(0.99),
    max: round(latencies.at(-1) ?? 0),
    ...(delay && { driverDelayMax: round(delay.max / 1e6) }),
  };
}

const round = (ms: number) => Math.round(ms * 100) / 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
