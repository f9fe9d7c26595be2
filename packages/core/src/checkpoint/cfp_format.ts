/**
 * Checkpoint file pairs on disk. Layouts in docs/FORMAT.md ("Data file",
 * "Delta file"):
 *
 *   data-<id>   = file header ("TMDATA01", id, databaseId, size = capacity) | block* | zeros
 *     block     = magic "TMD1", first/last = versionIds of its entries
 *     entry     = u16 tableId | u16 0 | u32 length | f64 versionId | row payload | zeros to 8 bytes
 *   delta-<id>  = file header ("TMDLTA01", id, databaseId, size 0) | block*
 *     block     = magic "TMT1", first/last = smallest/largest versionId
 *     entry     = f64 versionId (a version of data-<id> that has been deleted)
 *
 * A data file is pre-allocated (zero-filled to its capacity) and written once;
 * a delta file is append-only. Only bytes below the valid length the root
 * file records are ever read.
 */
import { assert } from '../assert.js';
import { DATA_ENTRY_PER_LOG_BYTE_MAX } from '../constants.js';
import { FILE_HEADER_BYTES } from '../files/file_header.js';
import { OP_HEADER_BYTES } from '../log/record.js';

export const DATA_MAGIC = 'TMDATA01';
export const DELTA_MAGIC = 'TMDLTA01';
export const CFP_FORMAT_VERSION = 1;
export const DATA_BLOCK_MAGIC = 0x31444d54; // "TMD1"
export const DELTA_BLOCK_MAGIC = 0x31544d54; // "TMT1"
export const DATA_ENTRY_HEADER_BYTES = 16;
export const DELTA_ENTRY_BYTES = 8;
export const CFP_HEADER_BYTES = FILE_HEADER_BYTES;

export function dataFileName(id: number): string {
  return `data-${id.toString(16).padStart(16, '0')}`;
}

export function deltaFileName(id: number): string {
  return `delta-${id.toString(16).padStart(16, '0')}`;
}

/** The file id and kind of a CFP file name, or null if the name is not one. */
export function parseCfpFileName(name: string): { id: number; kind: 'data' | 'delta' } | null {
  const m = /^(data|delta)-([0-9a-f]{16})$/.exec(name);
  return m === null ? null : { id: Number.parseInt(m[2]!, 16), kind: m[1] as 'data' | 'delta' };
}

/** Bytes a data entry of a `length`-byte row takes, padding included. */
export function dataEntryBytes(length: number): number {
  return (DATA_ENTRY_HEADER_BYTES + length + 7) & ~7;
}

assert(DATA_ENTRY_HEADER_BYTES === 2 + 2 + 4 + 8, 'a data entry header is tableId, 0, length, versionId');
assert(DATA_ENTRY_HEADER_BYTES % 8 === 0, 'entries stay 8-byte aligned, so their versionIds are');
assert(DELTA_ENTRY_BYTES === 8, 'a delta entry is one float64 versionId');
// An insert of an L-byte row is OP_HEADER_BYTES + L bytes of log and
// dataEntryBytes(L) <= DATA_ENTRY_HEADER_BYTES + L + 7 bytes of data file,
// so an entry is at most 1 + 7 / OP_HEADER_BYTES times its log bytes: the
// streamer's step bound (constants.ts) relies on it.
assert(DATA_ENTRY_HEADER_BYTES <= OP_HEADER_BYTES, 'a data entry header is no larger than a log op header');
assert(
  (OP_HEADER_BYTES + 7) / OP_HEADER_BYTES <= DATA_ENTRY_PER_LOG_BYTE_MAX,
  'a data entry grows its log bytes by at most DATA_ENTRY_PER_LOG_BYTE_MAX',
);

/**
 * The states of a CFP, as in the engines this follows. PRECREATED: in the
 * pool, empty. UNDER_CONSTRUCTION: receiving inserts. ACTIVE: closed, part
 * of the checkpoint. MERGE_TARGET / MERGED_SOURCE: a merge in progress.
 * TOMBSTONE: no longer needed, waiting to be deleted.
 */
export const CfpState = {
  PRECREATED: 'PRECREATED',
  UNDER_CONSTRUCTION: 'UNDER_CONSTRUCTION',
  ACTIVE: 'ACTIVE',
  MERGE_TARGET: 'MERGE_TARGET',
  MERGED_SOURCE: 'MERGED_SOURCE',
  TOMBSTONE: 'TOMBSTONE',
} as const;
export type CfpState = (typeof CfpState)[keyof typeof CfpState];

/** States whose rows a database is made of (loaded at open, receiving tombstones). */
export function holdsRows(state: CfpState): boolean {
  return state === CfpState.UNDER_CONSTRUCTION || state === CfpState.ACTIVE;
}
