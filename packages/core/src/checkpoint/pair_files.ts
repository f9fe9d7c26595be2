/**
 * A pair's two files on disk: made whole before any root names them, checked
 * before a pre-created one is trusted, and removed. Invariants:
 *
 * - A file is created zero-filled to its size and synced before it is used,
 *   so a checkpoint never writes a data file's worth of zeros; the directory
 *   entry is synced by the next checkpoint, before its root names the file.
 * - Removing a pair's files is idempotent: a file already gone is skipped.
 */
import { ErrorCode, isTidemarkError } from '../errors.js';
import { decodeFileHeader, FILE_HEADER_BYTES } from '../files/file_header.js';
import { readAll, writeAll } from '../files/file_layer.js';
import { CFP_FORMAT_VERSION, DATA_MAGIC, DELTA_MAGIC, dataFileName, deltaFileName } from './cfp_format.js';
import type { CheckpointState } from './checkpoint_state.js';
import type { CfpEntry } from './root_format.js';

/** Zeros are written in chunks of this size at most. */
const ZERO_CHUNK_BYTES = 1 << 20;

/** Paths of a pair's two files, data first. */
export function pairPaths(state: CheckpointState, id: number): string[] {
  return [state.path(dataFileName(id)), state.path(deltaFileName(id))];
}

/**
 * Unlinks a pair's files that exist; returns how many. `syncDir` false: the
 * caller syncs the directory once for many pairs (or has no need to).
 */
export function removePairFiles(state: CheckpointState, id: number, syncDir: boolean): number {
  let removed = 0;
  for (const path of pairPaths(state, id)) {
    if (!state.layer.exists(path)) continue;
    state.layer.unlink(path);
    removed++;
  }
  if (removed > 0 && syncDir) state.layer.fsyncDir(state.options.dir);
  return removed;
}

/**
 * Writes a new file: header, then zeros to `size`, and syncs it, so a
 * pre-created pair is on disk whole when it enters the pool (the pool is
 * topped up ahead of need, see PairPool.neededSoon) and a checkpoint has no
 * pair files of zeros to sync: syncing them there made each checkpoint write
 * a whole `dataFileSizeBytes` of zeros per new pair. No root names the file
 * yet (its id is at or past the last root's nextFileId, so an open after a
 * crash removes it); the next checkpoint syncs the directory before its root
 * names it. Returns the path.
 */
export function createZeroFilled(state: CheckpointState, name: string, header: Uint8Array, size: number): string {
  const { layer } = state;
  const path = state.path(name);
  const fd = layer.open(path, true);
  try {
    writeAll(layer, fd, path, header, 0, header.length, 0);
    const zeros = new Uint8Array(Math.min(ZERO_CHUNK_BYTES, Math.max(0, size - FILE_HEADER_BYTES)));
    for (let at = FILE_HEADER_BYTES; at < size; at += zeros.length)
      writeAll(layer, fd, path, zeros, 0, Math.min(zeros.length, size - at), at);
    layer.fdatasync(fd);
  } finally {
    layer.close(fd);
  }
  return path;
}

/**
 * Whether a PRECREATED pair the root names is fit to take: both files
 * there, the data file at full size, both headers valid and naming it. It
 * holds no rows, so one that is not (a file lost or damaged while the
 * database was closed) is dropped and replaced rather than failing later.
 */
export function precreatedIntact(state: CheckpointState, entry: CfpEntry): boolean {
  const { layer } = state;
  const files = [
    [dataFileName(entry.id), DATA_MAGIC, entry.capacity],
    [deltaFileName(entry.id), DELTA_MAGIC, FILE_HEADER_BYTES],
  ] as const;
  for (const [name, magic, size] of files) {
    const path = state.path(name);
    if (!layer.exists(path) || layer.size(path) < size) return false;
    const bytes = new Uint8Array(FILE_HEADER_BYTES);
    const fd = layer.open(path, false);
    try {
      readAll(layer, fd, bytes, 0, bytes.length, 0);
      const header = decodeFileHeader(bytes, magic, CFP_FORMAT_VERSION, path, 'pre-created pair file');
      if (header.id !== entry.id || header.databaseId !== state.options.databaseId) return false;
    } catch (error) {
      if (isTidemarkError(error, ErrorCode.CORRUPT)) return false;
      throw error;
    } finally {
      layer.close(fd);
    }
  }
  return true;
}
