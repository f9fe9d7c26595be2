/**
 * What `verify(dir)` reports (docs/RELIABILITY.md, "verify"): every problem
 * (an error: open() fails on it, or it is damage the engine cannot have
 * made) and warning (a state a crash leaves and open() repairs), each with
 * a stable code, the file, the byte offset and a message; every file with
 * its role; and the contents open() would load, as row counts and a digest.
 */
import type { FileLayer } from './files/file_layer.js';

/** What a problem or warning is about; stable, for programs to match on. */
export type VerifyCode =
  /** The path holds no database: it does not exist, or it holds no LOCK, root, WAL segment or pair file (the only problem then). */
  | 'NO_DATABASE'
  /** A root file fails its checks (header, length, body checksum, JSON, name); a warning while another root verifies (open() skips it). */
  | 'ROOT_INVALID'
  /** Root files exist but none verifies: open() fails. */
  | 'NO_ROOT'
  /** A file the chosen root needs (a pair file, a WAL segment) is missing; a warning for a pre-created pair's file (it holds no rows). */
  | 'FILE_MISSING'
  /** A data or delta file fails its checks (header, a block, an entry, counts, a row that does not decode); a warning for a pre-created pair. */
  | 'CFP_INVALID'
  /** The pairs do not load together as open() loads them (a row in two pairs, a count). */
  | 'CHECKPOINT_INVALID'
  /** A WAL segment fails its checks, or a log record does not replay. */
  | 'WAL_INVALID'
  /** Warning: the WAL ends in a bad batch with nothing valid after it, as a crash mid-write leaves it; open() cuts it. */
  | 'WAL_TORN_TAIL'
  /** Warning: a free WAL segment (before the checkpoint; open() never reads it) has a bad header; it is rewritten when recycled. */
  | 'FREE_SEGMENT_INVALID'
  /** Warning: the LOCK file is neither empty nor a line the engine writes ("<pid> <start time> <host>\n"; earlier versions without the host); open() takes it over. */
  | 'LOCK_MALFORMED'
  /** Warning: a LOCK file is present: the database is open, or its last owner crashed (open() takes it over); only the operating system's lock tells which. */
  | 'LOCK_PRESENT'
  /** The cursors file (named change-feed positions) fails its checks: open() fails. */
  | 'CURSORS_INVALID'
  /** Warning: a file of unfinished work (a pair no root names, a temp file); open() removes it. */
  | 'LEFTOVER_FILE'
  /** Warning: a file whose name the engine never makes; open() leaves it alone. */
  | 'UNKNOWN_FILE'
  /** A file could not be read (an I/O error). */
  | 'IO_ERROR'
  /** A reader failed in a way it should not (a bug in Tidemark): please report it. */
  | 'UNEXPECTED_ERROR';

export interface VerifyProblem {
  code: VerifyCode;
  /** The file's name in the directory (null: the directory as a whole). */
  file: string | null;
  /** Byte offset in the file where the problem is, where known. */
  offset: number | null;
  message: string;
}

export type VerifiedFileKind = 'root' | 'data' | 'delta' | 'wal' | 'lock' | 'temp' | 'unknown';

export interface VerifiedFile {
  file: string;
  kind: VerifiedFileKind;
  /**
   * `current`: the root chosen, a file it needs, or a WAL segment replayed;
   * `previous`: an older root; `free`: a WAL segment before the checkpoint;
   * `unused`: a pair file the root does not load (PRECREATED, MERGED_SOURCE);
   * `leftover`: removed at open; `other`: LOCK, unknown names.
   */
  role: 'current' | 'previous' | 'free' | 'unused' | 'leftover' | 'other';
  sizeBytes: number;
  /** Whether no problem names it. */
  ok: boolean;
}

export interface VerifyReport {
  /** True exactly when there is no problem (warnings allowed): open() would load this directory. */
  ok: boolean;
  dir: string;
  /** The root file open() would load (null: none verifies, or none exists). */
  root: string | null;
  problems: VerifyProblem[];
  warnings: VerifyProblem[];
  /** Every file of the directory, by name. */
  files: VerifiedFile[];
  /** Live rows per table after the checkpoint and the WAL, as open() would load them; null if they could not be loaded. */
  tables: Array<{ name: string; rows: number }> | null;
  /**
   * SHA-256 (hex) of the contents open() would load, null if they could not
   * be loaded: per table in table order, `name:` then its rows as JSON
   * (bigint as "<digits>n", bytes as arrays of numbers), sorted, one a line.
   * Equal digests mean equal contents: compare a copy with its original.
   */
  digest: string | null;
  /** The checkpoint's commitTs, and the newest commit in the WAL (0: none). */
  checkpointTs: number;
  lastCommitTs: number;
}

export interface VerifyOptions {
  /** The file layer to read through (tests pass a simulated one); the real file system by default. */
  layer?: FileLayer;
}
