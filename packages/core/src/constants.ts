/**
 * Every size and limit of the engine, in one place. The relations between them
 * are asserted when this module loads, so a limit changed here cannot silently
 * break another.
 */
import { assert } from './assert.js';

/**
 * Bytes in one arena segment (a SharedArrayBuffer). Power of two. 4 MiB: the
 * unit the segment cleaner frees, so memory follows live data closely; the
 * most a table can hold is the same for any size (pointer bits).
 */
export const ARENA_SEGMENT_BYTES = 4 * 1024 * 1024;
/** Every version starts on this boundary, so pointers can count 8-byte units. */
export const ARENA_ALIGN_BYTES = 8;
/** log2 of the 8-byte units in a segment: a version pointer is (segment << this) | unit. */
export const ARENA_UNITS_PER_SEGMENT_LOG2 = 19;
/** Pointers are uint32, so this many segments per table at most (8,192 × 4 MiB = 32 GiB). */
export const ARENA_MAX_SEGMENTS = 2 ** (32 - ARENA_UNITS_PER_SEGMENT_LOG2);

/**
 * A version in an arena:
 *
 *   byte 0        4                 8                16
 *        +--------+-----------------+----------------+------------------+
 *        | older  | length | flags  |   versionId    |  row payload ... |
 *        | uint32 | 24 bit | 8 bit  |    float64     |  `length` bytes  |
 *        +--------+-----------------+----------------+------------------+
 *
 * `older` points at the previous version of the same row (0: none). There is
 * no begin/end timestamp: a version's begin is its versionId (see txn/clock.ts)
 * and its end is the versionId of the next newer version in the chain.
 */
export const VERSION_HEADER_BYTES = 16;
/** Largest encoded row payload. Must fit the 24-bit length field and a segment. */
export const MAX_ROW_BYTES = 1024 * 1024;
/** Largest encoded key (primary or secondary). */
export const MAX_KEY_BYTES = 4096;

/** Version flag: the version is a delete marker; its payload is the row's key only. */
export const VERSION_FLAG_DELETED = 1;
/** Version flag (in memory only): no snapshot can reach the version any more; the cleaner skips it. */
export const VERSION_FLAG_RETIRED = 2;

/** Tables per database (table ids travel in log records as uint16). */
export const MAX_TABLES = 65535;
/** Columns per table. */
export const MAX_COLUMNS = 1024;

/** Slots of a new hash index. Power of two. */
export const INDEX_INITIAL_SLOTS = 1024;
/** A hash index starts growing when entries/slots passes MAX_LOAD_NUM/MAX_LOAD_DEN. */
export const INDEX_MAX_LOAD_NUM = 3;
export const INDEX_MAX_LOAD_DEN = 4;
/** Old-table slots moved into the new table per write while an index grows. */
export const INDEX_MIGRATE_SLOTS_PER_WRITE = 16;

/** versionIds and commit timestamps share one clock, safe as JS numbers. */
export const MAX_VERSION_ID = Number.MAX_SAFE_INTEGER;

/**
 * Opens of the LOCK file before giving up: another try is needed only when
 * the holder that was just raced removed the file this opener had open
 * (files/lock.ts), so more than a few in a row means a directory in churn.
 */
export const LOCK_ATTEMPTS = 8;
/** How long a loser waits for a new holder to write its line into LOCK, to name it in TM_LOCKED. */
export const LOCK_HOLDER_WAIT_MS = 1000;
/** The longest line a LOCK holds: pid, start time and host name (at most 255 bytes), with spaces and newline. */
export const LOCK_LINE_MAX_BYTES = 10 + 1 + 20 + 1 + 255 + 1;

assert(Number.isInteger(Math.log2(ARENA_SEGMENT_BYTES)), 'segment size is a power of two');
assert(ARENA_SEGMENT_BYTES / ARENA_ALIGN_BYTES === 2 ** ARENA_UNITS_PER_SEGMENT_LOG2, 'pointer units cover a segment');
assert(VERSION_HEADER_BYTES % ARENA_ALIGN_BYTES === 0, 'payloads start aligned');
assert(MAX_ROW_BYTES < 2 ** 24, 'row length fits the 24-bit length field');
assert(
  MAX_ROW_BYTES + VERSION_HEADER_BYTES + ARENA_ALIGN_BYTES <= ARENA_SEGMENT_BYTES,
  'the largest row fits a segment',
);
assert(MAX_KEY_BYTES <= MAX_ROW_BYTES, 'a key fits a row');
assert(Number.isInteger(Math.log2(INDEX_INITIAL_SLOTS)), 'index slots are a power of two');
assert(INDEX_MAX_LOAD_NUM < INDEX_MAX_LOAD_DEN, 'index load factor below 1');
// While growing, the new table (twice the slots) must finish migrating before it
// reaches the load limit itself: old slots / migrated per write <= writes until full.
assert(
  (INDEX_INITIAL_SLOTS * 2 * INDEX_MAX_LOAD_NUM) / INDEX_MAX_LOAD_DEN -
    (INDEX_INITIAL_SLOTS * INDEX_MAX_LOAD_NUM) / INDEX_MAX_LOAD_DEN >=
    INDEX_INITIAL_SLOTS / INDEX_MIGRATE_SLOTS_PER_WRITE,
  'index migration finishes before the new table fills',
);
