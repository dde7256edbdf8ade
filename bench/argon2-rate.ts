/**
 * The raw argon2id verify rate with Yitong's production parameters, on whatever cores this
 * process is pinned to and threads its pool has (run.ts: one core, one thread): the ceiling of
 * password sign-ins. Also the CPU one verification costs
 * (all threads): steadier than the rate on a shared machine. Prints one JSON line.
 */
import { hash, verify } from '@node-rs/argon2';
import { ARGON2_OPTIONS } from '../src/auth/password.ts';

const seconds = Number(process.argv[2] ?? 5);
const stored = await hash('bench-password-2026', ARGON2_OPTIONS);
let count = 0;
const deadline = performance.now() + seconds * 1000;
const worker = async () => {
  while (performance.now() < deadline) {
    await verify(stored, 'bench-password-2026');
    count++;
  }
};
const started = performance.now();
const cpu = process.cpuUsage();
await Promise.all(Array.from({ length: 4 }, worker));
const { user, system } = process.cpuUsage(cpu);
process.stdout.write(
  `${JSON.stringify({
    perSecond: Math.round((count / (performance.now() - started)) * 1000),
    cpuMs: Math.round((user + system) / count / 10) / 100,
  })}\n`,
);
