/**
 * `node bench/profile-summary.ts <file.cpuprofile>`: self time by function and by package, the
 * quick read of a `--cpu-prof` profile (open the file in Chrome DevTools for the flame graph).
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const profile = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
};
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map<number, number>();
for (const [i, id] of profile.samples.entries())
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
const total = [...self.values()].reduce((a, b) => a + b, 0);

function tally(key: (node: Node) => string) {
  const sums = new Map<string, number>();
  for (const [id, time] of self) {
    const node = byId.get(id) as Node;
    sums.set(key(node), (sums.get(key(node)) ?? 0) + time);
  }
  return [...sums].sort((a, b) => b[1] - a[1]).slice(0, 25);
}
const where = (url: string) =>
  url.replace(/^file:\/\/.*?node_modules\//, '').replace(/^file:\/\/.*?\/(src|bench)\//, '$1/');
const print = (title: string, rows: [string, number][]) => {
  process.stdout.write(`\n${title}\n`);
  for (const [name, time] of rows)
    process.stdout.write(`${((time / total) * 100).toFixed(1).padStart(5)}%  ${name}\n`);
};
print(
  'self time by package / file',
  tally(
    (n) =>
      where(n.callFrame.url)
        .split('/')
        .slice(0, n.callFrame.url.includes('node_modules') ? 2 : 3)
        .join('/') || `(${n.callFrame.functionName || 'native'})`,
  ),
);
print(
  'self time by function',
  tally(
    (n) =>
      `${n.callFrame.functionName || '(anonymous)'}  ${where(n.callFrame.url)}:${n.callFrame.lineNumber}`,
  ),
);
