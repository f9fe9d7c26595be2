/**
 * Worker entry: one read of the WAL for the change feed (a piscina task).
 * All logic lives in core's feed/wal_changes.ts.
 */
import { lowerThreadPriority, readWalChanges, type WalChanges, type WalChangesTask } from '@tidemark/core/internal';

lowerThreadPriority(); // background work: commits come first (threads/priority.ts)

export default function feed(task: WalChangesTask): WalChanges {
  return readWalChanges(task);
}
