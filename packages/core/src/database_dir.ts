/**
 * Whether a directory holds a Tidemark database, for the tools that read
 * one without opening it (verify, inspect, the CLI), so a mistyped path or
 * an unrelated folder is one plain answer instead of a list of "problems".
 *
 * A database directory holds at least one file of a name the engine makes
 * for it: `LOCK`, a root file (`root-<16 hex>`), a WAL segment
 * (`wal-<16 hex>`) or a pair file (`data-`/`delta-<16 hex>`). open() of a
 * new directory writes LOCK first, then the first WAL segment and a
 * pre-created pair, and close() adds a root: a directory that a crash cut
 * anywhere in that sequence still holds LOCK, and open() loads it as the
 * database it is. Temp files (`*.tmp`) alone do not count: the engine
 * renames each into place, so a folder holding only those never held a
 * database. Other files (notes, a marker) neither make nor spoil one.
 */
import { parseCfpFileName } from './checkpoint/cfp_format.js';
import { rootSeq } from './checkpoint/root_format.js';
import type { FileLayer } from './files/file_layer.js';
import { segmentSeq } from './log/wal_format.js';

/** Whether `name` is one of the names that make a directory a database (above). */
export function isDatabaseFile(name: string): boolean {
  return name === 'LOCK' || rootSeq(name) >= 0 || segmentSeq(name) >= 0 || parseCfpFileName(name) !== null;
}

/**
 * Null when `dir` holds a database; else the one line that says why not,
 * naming the path: it does not exist, is not a directory, or holds none of
 * the engine's files.
 */
export function whyNoDatabase(layer: FileLayer, dir: string): string | null {
  let names: string[];
  try {
    names = layer.list(dir);
  } catch (error) {
    const errno = ((error as { cause?: { code?: string } }).cause ?? (error as { code?: string })).code;
    if (errno === 'ENOENT') return `no database at ${dir}: no such directory`;
    if (errno === 'ENOTDIR') return `no database at ${dir}: it is a file, not a directory`;
    throw error;
  }
  if (names.some(isDatabaseFile)) return null;
  const others =
    names.length === 0 ? 'it is empty' : `it holds ${names.length} other file${names.length === 1 ? '' : 's'}`;
  return `no database at ${dir}: no LOCK, root file, WAL segment or pair file (${others})`;
}
