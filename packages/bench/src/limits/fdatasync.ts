/**
 * The disk's own rate of small durable writes: the limit a durable commit
 * with nothing else in flight can reach, since each such commit waits for
 * one write and one fdatasync of the log.
 *
 * The probe mimics the log writer with one commit in flight: a pre-allocated
 * file (written full of zeros and synced first, so that fdatasync has only
 * data to flush and no file size or block allocation), then a 64-byte
 * positional write at the next offset and an fdatasync, over and over.
 * Offsets wrap around inside the file.
 *
 *   file: [ 64 B | 64 B | 64 B | ... ]   SYNC_PROBE_FILE_BYTES, zeros
 *           ^ write, fdatasync; then the next slot
 */
import { closeSync, fdatasyncSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SYNC_PROBE_FILE_BYTES, SYNC_PROBE_WRITE_BYTES } from '../constants.js';
import { latencyHistogram, latencySummary, recordMs, type LatencySummary } from '../measure.js';

export interface SyncProbe {
  syncs: number;
  seconds: number;
  /** One write plus its fdatasync. */
  latency: LatencySummary;
}

/** Writes `fd` full of zeros, in 1 MiB writes, and syncs it (size and blocks included). */
function preallocate(fd: number): void {
  const zeros = Buffer.alloc(Math.min(SYNC_PROBE_FILE_BYTES, 1024 * 1024));
  for (let offset = 0; offset < SYNC_PROBE_FILE_BYTES; offset += zeros.length) {
    writeSync(fd, zeros, 0, Math.min(zeros.length, SYNC_PROBE_FILE_BYTES - offset), offset);
  }
  fsyncSync(fd);
}

/**
 * Up to `maxSyncs` write + fdatasync pairs in `dir`, stopping after
 * `seconds` if given. The probe file is removed before returning.
 */
export function probeFdatasync(dir: string, maxSyncs: number, seconds: number | null): SyncProbe {
  const path = join(dir, 'fdatasync-probe');
  const fd = openSync(path, 'w+');
  try {
    preallocate(fd);
    const record = Buffer.alloc(SYNC_PROBE_WRITE_BYTES, 0x5a);
    const histogram = latencyHistogram();
    const started = performance.now();
    const stopAt = seconds === null ? Infinity : started + seconds * 1000;
    let syncs = 0;
    let offset = 0;
    let now = started;
    while (syncs < maxSyncs && now < stopAt) {
      writeSync(fd, record, 0, SYNC_PROBE_WRITE_BYTES, offset);
      fdatasyncSync(fd);
      const done = performance.now();
      recordMs(histogram, done - now);
      now = done;
      syncs++;
      offset = (offset + SYNC_PROBE_WRITE_BYTES) % SYNC_PROBE_FILE_BYTES;
    }
    return { syncs, seconds: (now - started) / 1000, latency: latencySummary(histogram) };
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
}
