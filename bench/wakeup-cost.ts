/**
 * `npm run bench:wakeup` (core 0): what waking an idle core costs on this machine. One
 * small unit of work (SHA-256 and JSON, ~60 µs, about what a request does between two awaits) is
 * run back to back, then with the core left idle 1 ms and 5 ms between units, as an event loop
 * serving a paced load is. Prints the CPU per unit of each. Where they differ, a server pays the
 * difference on every event it wakes for (RESULTS.md, eighth pass).
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

const data = Buffer.alloc(1024, 7);
function unit() {
  for (let i = 0; i < 20; i++) {
    createHash('sha256').update(data).digest();
    JSON.parse(JSON.stringify({ i, list: [1, 2, 3], text: 'x'.repeat(50) }));
  }
}

async function cpuPerUnit(idleMs: number, units: number): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < units; i++) {
    unit();
    if (idleMs) await sleep(idleMs);
  }
  const { user, system } = process.cpuUsage(before);
  return Math.round((user + system) / units);
}

for (let i = 0; i < 20_000; i++) unit(); // warm-up: JIT
const phases: Array<[idleMs: number, units: number]> = [
  [0, 30_000],
  [1, 3_000],
  [5, 600],
];
for (const [idleMs, units] of phases) {
  process.stdout.write(
    `idle ${idleMs} ms between units: ${await cpuPerUnit(idleMs, units)} µs of CPU per unit\n`,
  );
}
