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
export const CONTROL_CELLS = 2;

export function createLogControl(durableTs: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(CONTROL_CELLS * 8);
  new BigInt64Array(sab)[DURABLE_TS] = BigInt(durableTs);
  return sab;
}

/** Publishes a new durable commitTs and wakes the main thread's waiter. */
export function publishDurable(cells: BigInt64Array, commitTs: number): void {
  Atomics.store(cells, DURABLE_TS, BigInt(commitTs));
  Atomics.notify(cells, DURABLE_TS);
}
