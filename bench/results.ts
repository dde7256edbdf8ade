/** The shape of a benchmark results file, shared by the runner and the report. */

/** One measured scenario on one target. */
export interface Row {
  scenario: string;
  target: 'yitong' | 'bare';
  citizens?: number;
  /** The median of `runs` when there were several. */
  perSecond: number;
  /** Each measurement's rate, in the order measured (`--runs`): the spread around the median. */
  runs?: number[];
  p50: number;
  p99: number;
  /** p99 paced at 70 % of `perSecond`: the median of the paced runs, each kept (absent before 2026-12-06). */
  p99At70?: number;
  p99At70Runs?: number[];
  /** CPU milliseconds per operation (whole process) over those paced runs (absent before 2026-12-06). */
  cpuMsAt70?: number;
  /** The load driver's own longest event-loop delay in those paced runs, ms (absent before the ninth pass). */
  driverDelayAt70?: number;
  errors: number;
  firstError?: string;
  /**
   * CPU milliseconds per operation (medians of the runs): the whole process, and its main thread
   * (the event loop; the rest is libuv's pool, argon2 above all, and V8's helpers).
   */
  cpuMs?: { process: number; main: number };
  /** The provider's highest RSS while this scenario ran (MiB; Yitong's own rows). */
  rssPeakMiB?: number;
}
/** What `npm run bench` writes to bench/results/<date>.json. */
export interface Result {
  date: string;
  machine: { cpu?: string; cores: number; memoryGiB: number; node: string };
  seconds: number;
  argon2PerSecond: number;
  /** CPU milliseconds one verification costs, all threads (absent before 2026-12-06). */
  argon2CpuMs?: number;
  storage: Record<string, { rows: number; tableBytes: number; indexBytes: number }>;
  memory: {
    rssAtRestMiB?: number;
    rssUnderLoadMiB?: number;
    redisBytesPerSession?: number;
    redisBytesPerSignIn?: number;
  };
  rows: Row[];
}
