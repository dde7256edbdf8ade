/** Output helpers for long CLI jobs: a progress line, durations and sizes people can read. */

/** One updating line on a terminal; otherwise a plain line every 5 %. */
export function progressReporter(stream: NodeJS.WriteStream) {
  const started = performance.now();
  let shown = -1;
  return (done: number, total: number) => {
    const step = stream.isTTY ? 0.001 : 0.05;
    const fraction = done / total;
    if (done < total && fraction < shown + step) return;
    shown = fraction;
    const seconds = (performance.now() - started) / 1000;
    const rate = done / Math.max(seconds, 0.001);
    const bar = '#'.repeat(Math.floor(fraction * 20)).padEnd(20, '.');
    const line = `[${bar}] ${(fraction * 100).toFixed(1)}%  ${done}/${total} rows  ${Math.round(rate)} rows/s  ETA ${formatDuration((total - done) / rate)}`;
    stream.write(stream.isTTY ? `\r${line}\x1b[K${done === total ? '\n' : ''}` : `${line}\n`);
  };
}

/** On a terminal, one updating line per migration applied (an index over millions of rows takes minutes). */
export function migrationProgress(stream: NodeJS.WriteStream) {
  return (name: string, { done, total }: { done: number; total: number }) => {
    if (!stream.isTTY) return;
    stream.write(`\rapplied migration ${done}/${total}: ${name}\x1b[K${done === total ? '\n' : ''}`);
  };
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1 << 30) return `${(bytes / (1 << 30)).toFixed(2)} GiB`;
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}
