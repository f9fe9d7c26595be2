/**
 * Worker entry: one step of a backup (a piscina task): a file copied, or the
 * copy finished (its root written, its WAL cut). All logic lives in core's
 * backup/; this returns its outcome, since an Error's class and code do not
 * survive the thread boundary.
 */
import { backupTask, lowerThreadPriority, type BackupOutcome, type BackupTask } from '@tidemark/core/internal';

lowerThreadPriority(); // background work: commits come first (threads/priority.ts)

export default function backup(task: BackupTask): BackupOutcome {
  return backupTask(task);
}
