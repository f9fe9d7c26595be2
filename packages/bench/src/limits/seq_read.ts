/**
 * The disk's sequential read bandwidth over given files: the floor recovery's
 * reading is judged against. Reads the first `bytes` of each file in 4 MiB
 * positional reads (the chunk recovery reads with) into one buffer, touching
 * nothing else. `dropCaches` (below) makes the read cold where the machine
 * permits it: the whole page cache as root, else the files' own pages.
 */
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  fsyncSync,
  lstatSync,
  openSync,
  readdirSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

/** How `dropCaches` made the next reads cold: the whole page cache, the named files' pages, or not at all. */
export type CacheDrop = 'system' | 'files' | null;

/**
 * Makes the next reads of `paths` (files, or directories taken whole; links
 * are not followed) come from the disk. As root on Linux the whole page
 * cache is synced and dropped (`/proc/sys/vm/drop_caches`). Where that is
 * refused, as in a container, each file is fsynced and its pages dropped
 * with `posix_fadvise(POSIX_FADV_DONTNEED)`, which needs no privilege; Node
 * has no binding for it, so GNU dd makes the call (`iflag=nocache count=0`
 * drops the whole file's cache and reads nothing). Returns how it was done,
 * or null where neither works (the reads are then warm). With no file to
 * drop, dd is tried on a scratch file of its own (in the first directory
 * named, so on the same file system), so the answer says whether a later
 * call can drop files.
 */
export function dropCaches(paths: readonly string[]): CacheDrop {
  try {
    execFileSync('sync', { stdio: 'ignore' });
    writeFileSync('/proc/sys/vm/drop_caches', '1\n');
    return 'system';
  } catch {
    // not permitted: drop the files one by one
  }
  const files = filesUnder(paths);
  const probeDir = paths.find((path) => lstatSync(path, { throwIfNoEntry: false })?.isDirectory()) ?? tmpdir();
  const probe = files.length === 0 ? join(probeDir, `tidemark-cache-probe-${process.pid}`) : null;
  try {
    if (probe !== null) {
      writeFileSync(probe, new Uint8Array(4096));
      files.push(probe);
    }
    for (const file of files) {
      const fd = openSync(file, 'r');
      try {
        fsyncSync(fd); // dirty pages are not dropped
      } finally {
        closeSync(fd);
      }
      execFileSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none'], { stdio: 'ignore' });
    }
    return 'files';
  } catch {
    return null;
  } finally {
    if (probe !== null) rmSync(probe, { force: true });
  }
}

/**
 * `dropCaches` before a read that must be cold (`drop`, from a first call,
 * says it can be): throws where dropping fails this time, rather than let a
 * warm read be reported as cold.
 */
export function dropCachesAgain(drop: CacheDrop, paths: readonly string[]): void {
  if (drop !== null && dropCaches(paths) === null)
    throw new Error(`the page cache could not be dropped before a cold read of ${paths.join(', ')}`);
}

/** Words for a report: how the page cache stood before the reads. */
export function cacheWords(drop: CacheDrop): string {
  if (drop === 'system') return 'dropped before each read (cold)';
  if (drop === 'files')
    return "the files' pages dropped before each read (cold; posix_fadvise DONTNEED, as dropping the whole cache was not permitted)";
  return 'warm (dropping it was not permitted)';
}

function filesUnder(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const path of paths) {
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (stat === undefined) continue;
    if (stat.isFile()) files.push(path);
    else if (stat.isDirectory()) files.push(...filesUnder(readdirSync(path).map((name) => join(path, name))));
  }
  return files;
}
