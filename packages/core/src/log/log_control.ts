/**
 * The log writer's shared cells, declared once for both threads: a
 * BigInt64Array over a small SharedArrayBuffer. The main thread keeps one
 * Atomics.waitAsync on DURABLE_TS and resolves every commit at or below it
 * in one pass.
 */
/** The newest commitTs whose record is durable (written and fdatasync'd). */
export const DURABLE_TS = 0;
/**
 * The newest commitTs a caller waits on (a durable commit, a flush). The
 * writer syncs at once while it is above DURABLE_TS; records nobody waits
 * for (delayed durability) are synced within maxDelayMs.
 */
export const WAITED_TS = 1;
/**
 * The first WAL segment the newest checkpoint still needs; the checkpoint
 * streamer raises it after publishing a root, and the log writer recycles
 * segments below it when it rolls over.
 */
export const FIRST_NEEDED_SEQ = 2;
/**
 * The disk is full (DiskState): the main thread refuses new write
 * transactions while it is not OK. The log writer sets it when it cannot
 * reserve the next segment (early warning: commits in flight still fit the
 * current one) or cannot write at all (they wait), and clears it when a
 * probe finds space again.
 */
export const DISK_STATE = 3;
/** Set by the main thread when close begins: a log writer stalled on a full disk then gives up instead of waiting. */
export const CLOSING = 4;

/**
 * Statistics the log writer and the checkpoint streamer publish for
 * `db.stats()`, so the main thread reads them without a round trip to a
 * worker. Each cell is stored on its own (Atomics.store): a reader sees
 * every cell whole, though two cells may be from moments apart.
 */
/** Log writer: bytes, batches and fdatasyncs of the WAL since open. */
export const WAL_BYTES = 5;
export const WAL_BATCHES = 6;
export const WAL_SYNCS = 7;
/** Streamer: checkpoints published since open, and microseconds spent in them. */
export const CHECKPOINTS = 8;
export const CHECKPOINT_US = 9;
/** Streamer: merges installed since open, and microseconds spent in merge tasks. */
export const MERGES = 10;
export const MERGE_US = 11;
/** Streamer: the newest commitTs streamed into checkpoint files, and the newest one a checkpoint covers. */
export const STREAMED_TS = 12;
export const CHECKPOINT_TS = 13;
/** Streamer: checkpoint file pairs in each state, in the order of CFP_STATE_ORDER. */
export const CFP_COUNTS = 14;
/** The CfpState of each CFP_COUNTS cell (strings here, so this module imports nothing). */
export const CFP_STATE_ORDER = [
  'PRECREATED',
  'UNDER_CONSTRUCTION',
  'ACTIVE',
  'MERGE_TARGET',
  'MERGED_SOURCE',
  'TOMBSTONE',
] as const;
/** Log writer's archive (wal_archiver.ts): the next segment to archive, whether it is failing (1), segments skipped. */
export const ARCHIVE_NEXT = CFP_COUNTS + CFP_STATE_ORDER.length;
export const ARCHIVE_FAILING = ARCHIVE_NEXT + 1;
export const ARCHIVE_SKIPPED = ARCHIVE_NEXT + 2;
/** Main thread: the oldest named change-feed cursor's commitTs (-1: none); the log writer keeps the WAL after it (feed/cursors.ts). */
export const CURSOR_TS = ARCHIVE_SKIPPED + 1;
/** Log writer: 1 once it failed (its error follows as a message); a main thread blocked in a synchronous durable wait sees it at once. */
export const WRITER_FAILED = CURSOR_TS + 1;
/**
 * Main thread: the newest commitTs a caller waits on synchronously
 * (transactionSync, durable). The writer that makes it durable polls the ring
 * for a moment before it sleeps: such a caller's next commit comes within
 * microseconds, and a sleeping thread's wake-up costs more than the wait.
 */
export const SYNC_WAITED_TS = WRITER_FAILED + 1;
export const CONTROL_CELLS = SYNC_WAITED_TS + 1;

export const DiskState = {
  OK: 0n,
  /** The next WAL segment cannot be reserved; the log still writes into the current one. */
  NO_RESERVE: 1n,
  /** The log cannot write; commits in flight wait until space returns. */
  STALLED: 2n,
} as const;

/** The statistics' names of the DiskState values, in their order (0, 1, 2). */
export const DISK_STATE_NAMES = ['ok', 'no-reserve', 'stalled'] as const;
export type DiskStateName = (typeof DISK_STATE_NAMES)[number];

/** The DISK_STATE cell as the statistics name it. */
export function diskStateName(cells: BigInt64Array): DiskStateName {
  return DISK_STATE_NAMES[Number(Atomics.load(cells, DISK_STATE))] ?? 'stalled';
}

export function createLogControl(durableTs: number, firstNeededSeq = 0): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(CONTROL_CELLS * 8);
  const cells = new BigInt64Array(sab);
  cells[DURABLE_TS] = BigInt(durableTs);
  cells[FIRST_NEEDED_SEQ] = BigInt(firstNeededSeq);
  cells[CURSOR_TS] = -1n;
  return sab;
}

/**
 * The control cells over `sab`, checked to hold every cell this build knows:
 * a worker bundle built from other sources than the main thread's would
 * otherwise write past them (RangeError in the middle of a batch) or leave
 * figures at 0 without a word.
 */
export function controlCells(sab: SharedArrayBuffer): BigInt64Array {
  const cells = new BigInt64Array(sab);
  if (cells.length !== CONTROL_CELLS)
    throw new Error(
      `log control cells: the main thread made ${cells.length}, this worker knows ${CONTROL_CELLS} (a stale build of the worker bundles? run the build again)`,
    );
  return cells;
}

/** Stores whole numbers into cells from `first` on. */
export function publishCells(cells: BigInt64Array, first: number, values: readonly number[]): void {
  for (let i = 0; i < values.length; i++) Atomics.store(cells, first + i, BigInt(Math.trunc(values[i]!)));
}

/** Marks the log writer failed and wakes a synchronous durable wait, which then stops waiting. */
export function publishWriterFailed(cells: BigInt64Array): void {
  Atomics.store(cells, WRITER_FAILED, 1n);
  Atomics.notify(cells, DURABLE_TS);
}

/** Publishes a new durable commitTs and wakes the main thread's waiter. */
export function publishDurable(cells: BigInt64Array, commitTs: number): void {
  Atomics.store(cells, DURABLE_TS, BigInt(commitTs));
  Atomics.notify(cells, DURABLE_TS);
}
