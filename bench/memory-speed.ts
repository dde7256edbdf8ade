/**
 * `npm run bench:memory [-- SECONDS]` (core 0): whether this machine runs the same work at the
 * same speed from one moment to the next. Two fixed units are timed in 50 ms windows for SECONDS
 * (20) each: one that stays in the core's own cache, and one that reads and writes at random
 * across 64 MiB, as a server's heap does. Prints, per unit, how much slower its windows ran than
 * its median window. Where the memory-bound unit slows by a fifth or more for stretches of time,
 * a server kept busy at 80–90 % falls behind for as long and its tail grows (RESULTS.md, tenth
 * pass).
 */
const WINDOW_MS = 50;
const SECONDS = Number(process.argv[2] ?? 20);
if (!(SECONDS >= 1)) {
  process.stderr.write(`usage: npm run bench:memory [-- SECONDS], at least 1 (got ${process.argv[2]})\n`);
  process.exit(2);
}

let state = 7;
function inCache() {
  const cells = new Int32Array(256);
  for (let i = 0; i < 20_000; i++) {
    state = (Math.imul(state, 1103515245) + 12345) | 0;
    cells[i & 255] = (cells[i & 255] as number) + (state & 7);
  }
}
const memory = new Int32Array(16 * 1024 * 1024); // 64 MiB
function acrossMemory() {
  for (let i = 0; i < 4_000; i++) {
    state = (Math.imul(state, 1103515245) + 12345) & 0xffffff;
    memory[state] = (memory[state] as number) + i;
  }
}

/** Each window's time per unit divided by the median window's, in the order they ran. */
function slowdowns(unit: () => void): number[] {
  for (let i = 0; i < 2_000; i++) unit(); // warm-up: JIT, and the pages touched once
  const perUnit: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  let start = performance.now();
  let units = 0;
  while (start < end) {
    unit();
    units++;
    const now = performance.now();
    if (now - start >= WINDOW_MS) {
      perUnit.push((now - start) / units);
      start = now;
      units = 0;
    }
  }
  const median = perUnit.toSorted((a, b) => a - b)[Math.floor(perUnit.length / 2)] as number;
  return perUnit.map((time) => time / median);
}

for (const [name, unit] of [
  ['in the core’s cache', inCache],
  ['across 64 MiB', acrossMemory],
] as const) {
  const ratios = slowdowns(unit);
  const sorted = ratios.toSorted((a, b) => a - b);
  const at = (p: number) => (sorted[Math.floor(p * (sorted.length - 1))] as number).toFixed(2);
  let slow = 0;
  let run = 0;
  let longest = 0;
  for (const ratio of ratios) {
    run = ratio >= 1.2 ? run + 1 : 0;
    if (run) slow++;
    longest = Math.max(longest, run);
  }
  process.stdout.write(
    `${name}: ${WINDOW_MS} ms windows against the median: p90 ${at(0.9)}×, p99 ${at(0.99)}×, max ${at(1)}×; ` +
      `${slow} of ${ratios.length} (${Math.round((slow / ratios.length) * 100)} %) 1.2× slower or more, ` +
      `the longest stretch of them ${longest * WINDOW_MS} ms\n`,
  );
}
