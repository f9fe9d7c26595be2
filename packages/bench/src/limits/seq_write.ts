/**
 * The disk's sequential write bandwidth: the limit checkpoint streaming is
 * judged against. Writes `bytes` to a new file in 1 MiB positional writes,
 * then fdatasyncs; the rate counts until the sync returns. The probe file
 * is removed before returning.
 */
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const CHUNK_BYTES = 1024 * 1024;

export interface WriteProbe {
  bytes: number;
  seconds: number;
}

export function probeSequentialWrite(dir: string, bytes: number, seconds: number | null): WriteProbe {
  const path = join(dir, 'seq-write-probe');
  const chunk = Buffer.alloc(CHUNK_BYTES, 0xa5);
  const fd = openSync(path, 'w+');
  try {
    const started = performance.now();
    const stopAt = seconds === null ? Infinity : started + seconds * 1000;
    let written = 0;
    while (written < bytes && performance.now() < stopAt) {
      const n = writeSync(fd, chunk, 0, Math.min(CHUNK_BYTES, bytes - written), written);
      if (n <= 0) throw new Error(`short write to ${path} at ${written}`);
      written += n;
    }
    fdatasyncSync(fd);
    return { bytes: written, seconds: (performance.now() - started) / 1000 };
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
}
