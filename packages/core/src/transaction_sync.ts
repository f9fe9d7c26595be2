/**
 * transactionSync(): fn in a transaction committed without a promise, run
 * again on a conflict; with `durability: 'durable'` given, it returns only
 * once the commit is durable (the caller's thread blocks meanwhile).
 */
import { ErrorCode, isTidemarkError, TidemarkError } from './errors.js';

/**
 * Whether transactionSync() waits for durability: when given `durability:
 * 'durable'`. INVALID_OPTION for 'replicated' (only a promise can wait for the
 * stream), and for 'durable' where the log writer runs on this very thread
 * (`blocking` false: the inline threads of the fault tests).
 */
export function syncWait(options: { durability?: unknown } | undefined, blocking: boolean): boolean {
  const wait = options?.durability;
  if (wait === 'replicated')
    throw new TidemarkError(
      ErrorCode.INVALID_OPTION,
      "transactionSync() cannot wait for durability 'replicated': use transaction()",
    );
  if (wait === 'durable' && !blocking)
    throw new TidemarkError(
      ErrorCode.INVALID_OPTION,
      "transactionSync() cannot wait for durability 'durable' while the log writer runs on this thread",
    );
  return wait === 'durable';
}

/** Runs `fn` in `begin()`'s transaction and commits it, up to `retries` times more on a conflict; `durable` waits. */
export function runSync<T, X extends { commitSync(): number; abort(): void }>(
  begin: () => X,
  fn: (tx: X) => T,
  retries: number,
  durable: ((commitTs: number) => void) | null,
): T {
  for (let attempt = 0; ; attempt++) {
    const tx = begin();
    try {
      const value = fn(tx);
      if (value !== null && typeof (value as { then?: unknown })?.then === 'function') {
        throw new TidemarkError(
          ErrorCode.TXN_NOT_SYNC,
          'transactionSync() callback returned a promise; use transaction()',
        );
      }
      const commitTs = tx.commitSync();
      durable?.(commitTs);
      return value;
    } catch (error) {
      if (attempt >= retries || !isTidemarkError(error, ErrorCode.CONFLICT)) throw error;
    } finally {
      tx.abort();
    }
  }
}
