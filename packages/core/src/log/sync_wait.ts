/**
 * A synchronous durable wait (transactionSync with `durability: 'durable'`,
 * DurableSink.waitDurableSync): the calling thread blocks on the log
 * writer's durable mark, polling it for SYNC_SPIN_MS (about one fdatasync:
 * a thread's wake-up from a futex costs more than a short poll here), then
 * sleeping on it with Atomics.wait. Every 64 polls, and every SYNC_CHECK_MS
 * asleep, `check` may end the wait with an error.
 */
import { ErrorCode, TidemarkError } from '../errors.js';
import { DISK_STATE, DiskState, DURABLE_TS, WRITER_FAILED } from './log_control.js';

/** How often a synchronous durable wait looks at the writer's failure, the disk and close while it blocks. */
export const SYNC_CHECK_MS = 50;
/** How long a synchronous durable wait polls before it sleeps. */
const SYNC_SPIN_MS = 1;

/** Blocks until DURABLE_TS reaches `commitTs`; returns the durable mark then. `check` throws to give up. */
export function blockUntilDurable(cells: BigInt64Array, commitTs: number, check: () => void): number {
  const target = BigInt(commitTs);
  const spinUntil = performance.now() + SYNC_SPIN_MS;
  for (let i = 1; ; i++) {
    const durable = Atomics.load(cells, DURABLE_TS);
    if (durable >= target) return Number(durable);
    if (i % 64 !== 0) continue;
    check();
    if (performance.now() >= spinUntil) Atomics.wait(cells, DURABLE_TS, durable, SYNC_CHECK_MS);
  }
}

/**
 * Why a synchronous durable wait cannot go on: the writer failed (its error,
 * or IO_ERROR while the error is on its way as a message), the log is closed
 * (CLOSED), or the disk is full (DISK_FULL: the commit becomes durable once
 * space returns, and `db.flush()` resolves then). Null while it can.
 */
export function syncWaitFailure(
  cells: BigInt64Array,
  failure: Error | null,
  closed: boolean,
  commitTs: number,
): Error | null {
  if (failure !== null) return failure;
  if (Atomics.load(cells, WRITER_FAILED) === 1n)
    return new TidemarkError(
      ErrorCode.IO_ERROR,
      `the log writer failed before commit ${commitTs} was durable: it is applied in memory only, and the database stops`,
    );
  if (closed) return new TidemarkError(ErrorCode.CLOSED, 'the log was closed');
  if (Atomics.load(cells, DISK_STATE) === DiskState.STALLED)
    return new TidemarkError(
      ErrorCode.DISK_FULL,
      `the disk is full: commit ${commitTs} is applied and becomes durable once space returns (db.flush() resolves then)`,
    );
  return null;
}
