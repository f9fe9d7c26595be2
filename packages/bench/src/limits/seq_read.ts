/**
 * The disk's sequential read bandwidth over given files: the floor recovery's
 * reading is judged against. Reads the first `bytes` of each file in 4 MiB
 * positional reads (the chunk recovery reads with) into one buffer, touching
 * nothing else. `dropCaches` (below) makes the read cold where the machine
 * permits it.
 */
import { closeSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const CHUNK_BYTES = 4 * 1024 * 1024;

export interface ReadProbe {
  bytes: number;
  seconds: number;
}

export function probeSequentialRead(files: ReadonlyArray<{ path: string; bytes: number }>): ReadProbe {
  const chunk = Buffer.alloc(CHUNK_BYTES);
  const started = performance.now();
  let bytes = 0;
  for (const { path, bytes: size } of files) {
    if (statSync(path).size < size) throw new Error(`${path} is shorter than ${size} bytes`);
    const fd = openSync(path, 'r');
    try {
      for (let at = 0; at < size; ) {
        const n = readSync(fd, chunk, 0, Math.min(CHUNK_BYTES, size - at), at);
        if (n <= 0) throw new Error(`short read of ${path} at ${at}`);
        at += n;
        bytes += n;
      }
    } finally {
      closeSync(fd);
    }
  }
  return { bytes, seconds: (performance.now() - started) / 1000 };
}

/**
 * Syncs and drops the page cache (Linux, as root) so the next read comes from
 * the disk. Returns false where the machine does not permit it (the read is then warm).
 */
export function dropCaches(): boolean {
  try {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '1\n');
    return true;
  } catch {
    return false;
  }
}
