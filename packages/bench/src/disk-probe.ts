import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * How long one small write + fsync takes where the servers keep their data (the temp
 * directory): with durable commits every group commit pays it once, on the server's main thread.
 */
export function probeFsync(rounds = 200): { p50Ms: number; p99Ms: number; maxMs: number } {
  const dir = mkdtempSync(join(tmpdir(), 'courier-bench-fsync-'));
  const fd = openSync(join(dir, 'probe'), 'w');
  const times: number[] = [];
  const block = Buffer.alloc(4096, 1);
  try {
    for (let i = 0; i < rounds; i++) {
      const started = performance.now();
      writeSync(fd, block, 0, block.length, (i % 16) * block.length);
      fsyncSync(fd);
      times.push(performance.now() - started);
    }
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => Math.round(times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)]! * 1000) / 1000;
  return { p50Ms: at(0.5), p99Ms: at(0.99), maxMs: at(1) };
}
