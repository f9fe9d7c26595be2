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
 * no begin/end timestamp: a version's begin is its versionId (see `Clock`, txn/snapshots.ts)
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

/** Rows an iterator gathers from an ordered index at a time (pointers only; each is decoded when taken). */
export const ITERATE_BATCH_ROWS = 256;

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

/**
 * WAL bytes the checkpoint streamer reads per step: a data file's size over
 * STREAM_STEP_FILE_DIVISOR, within STREAM_STEP_MIN_BYTES to
 * STREAM_STEP_MAX_BYTES (checkpoint/pair_pool.ts, `streamStepBytes`). Not
 * more than 16 MiB, so triggers and control calls are seen regularly; not
 * less than 1 MiB, as each step costs a write and a look at the control
 * cells: with 64 KiB files, 8 KiB steps left the streamer behind the crash
 * test's WAL bound.
 */
export const STREAM_STEP_FILE_DIVISOR = 8;
export const STREAM_STEP_MIN_BYTES = 1 << 20;
export const STREAM_STEP_MAX_BYTES = 16 << 20;
/**
 * The pool of pre-created pairs is topped up once the pair being written is
 * this full (NUM/DEN of its capacity), not sooner: a pre-created pair is a
 * whole data file of disk, held for as long as it waits.
 */
export const POOL_TOPUP_FILL_NUM = 3;
export const POOL_TOPUP_FILL_DEN = 4;
/**
 * A data entry takes at most this many times the log bytes of the insert it
 * is streamed from (an entry pads its row to 8 bytes where the log does not);
 * checkpoint/cfp_format.ts asserts it against both layouts.
 */
export const DATA_ENTRY_PER_LOG_BYTE_MAX = 1.5;
/** Root files kept: the newest, and the one before it (read if the newest is torn). */
export const ROOTS_KEPT = 2;

assert(Number.isInteger(Math.log2(ARENA_SEGMENT_BYTES)), 'segment size is a power of two');
assert(ARENA_SEGMENT_BYTES / ARENA_ALIGN_BYTES === 2 ** ARENA_UNITS_PER_SEGMENT_LOG2, 'pointer units cover a segment');
assert(VERSION_HEADER_BYTES % ARENA_ALIGN_BYTES === 0, 'payloads start aligned');
assert(MAX_ROW_BYTES < 2 ** 24, 'row length fits the 24-bit length field');
assert(
  MAX_ROW_BYTES + VERSION_HEADER_BYTES + ARENA_ALIGN_BYTES <= ARENA_SEGMENT_BYTES,
  'the largest row fits a segment',
);
assert(MAX_KEY_BYTES <= MAX_ROW_BYTES, 'a key fits a row');
assert(VERSION_HEADER_BYTES === 4 + 4 + 8, 'the version header is older, length and flags, versionId');
assert(ARENA_MAX_SEGMENTS * 2 ** ARENA_UNITS_PER_SEGMENT_LOG2 === 2 ** 32, 'a version pointer is a uint32');
assert(MAX_TABLES <= 0xffff, 'a table id fits the uint16 of log records and data entries');
assert(Number.isSafeInteger(MAX_VERSION_ID), 'versionIds are exact as JS numbers');
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
assert(STREAM_STEP_MIN_BYTES <= STREAM_STEP_MAX_BYTES, 'the streamer step bounds are ordered');
assert(POOL_TOPUP_FILL_NUM < POOL_TOPUP_FILL_DEN, 'the pool is topped up before the pair being written is full');
// The pool's top-up comes at least a step before the pair being written
// closes: one step reads at most 1/STREAM_STEP_FILE_DIVISOR of a data file
// of log, which becomes at most DATA_ENTRY_PER_LOG_BYTE_MAX times as many
// bytes of data entries, less than the share of the file left at the
// top-up point. So a pair opens from the pool, busy or not, for data files
// of at least STREAM_STEP_MIN_BYTES * STREAM_STEP_FILE_DIVISOR (8 MiB);
// below that the 1 MiB floor may pass the top-up point in one step, and a
// pair may open with the pool empty (a pool miss, counted).
assert(
  DATA_ENTRY_PER_LOG_BYTE_MAX / STREAM_STEP_FILE_DIVISOR <= 1 - POOL_TOPUP_FILL_NUM / POOL_TOPUP_FILL_DEN,
  'a streamer step writes less than the share of a data file left after the pool top-up point',
);
// A merged source is MERGED_SOURCE in one root, TOMBSTONE in the next, and
// its files are deleted once that root is written and the older roots are
// removed: the root before the MERGED_SOURCE one, the last to name it
// ACTIVE, must then be gone, so no more than two roots are kept; and at
// least two, so a torn newest root falls back to the one before.
assert(ROOTS_KEPT === 2, 'two roots are kept: a fallback, and no root naming a deleted pair ACTIVE');
