/** Progress for long CLI commands: one rewritten line on a terminal, an occasional plain line otherwise (logs, CI). */

export function bar(fraction: number, width = 30): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${Math.floor(f * 100)}%`;
}

let lastPlain = 0;

export function progressLine(text: string): void {
  if (process.stdout.isTTY) {
    const width = (process.stdout.columns || 100) - 1;
    process.stdout.write(`\r${text.slice(0, width).padEnd(Math.min(100, width))}`);
  } else if (Date.now() - lastPlain > 5_000) {
    lastPlain = Date.now();
    console.log(text);
  }
}

export function progressDone(): void {
  if (process.stdout.isTTY) process.stdout.write('\n');
}

/** "3m 20s" style estimate of the time left, from the rate so far. */
export function eta(done: number, total: number | null, startedAt: number): string {
  if (!total || done === 0) return 'ETA unknown';
  const elapsed = Date.now() - startedAt;
  const left = Math.max(0, Math.round(((total - done) * elapsed) / done / 1000));
  return `ETA ${left >= 60 ? `${Math.floor(left / 60)}m ${left % 60}s` : `${left}s`}`;
}
