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
export const CONTROL_CELLS = 5;

export const DiskState = {
  OK: 0n,
  /** The next WAL segment cannot be reserved; the log still writes into the current one. */
  NO_RESERVE: 1n,
  /** The log cannot write; commits in flight wait until space returns. */
  STALLED: 2n,
} as const;

export function createLogControl(durableTs: number, firstNeededSeq = 0): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(CONTROL_CELLS * 8);
  const cells = new BigInt64Array(sab);
  cells[DURABLE_TS] = BigInt(durableTs);
  cells[FIRST_NEEDED_SEQ] = BigInt(firstNeededSeq);
  return sab;
}

/** Publishes a new durable commitTs and wakes the main thread's waiter. */
export function publishDurable(cells: BigInt64Array, commitTs: number): void {
  Atomics.store(cells, DURABLE_TS, BigInt(commitTs));
  Atomics.notify(cells, DURABLE_TS);
}
