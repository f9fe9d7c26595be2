/**
 * Worker entry: an index build's entries (a piscina task). All logic lives
 * in indexEntries; this returns its outcome, since an Error's code does not
 * survive the thread boundary.
 */
import {
  indexEntries,
  type IndexEntriesOutcome,
  type IndexEntriesTask,
  lowerThreadPriority,
  toWire,
} from '@tidemark/core/internal';

lowerThreadPriority(); // background work: commits come first (threads/priority.ts)

export default function indexBuildTask(task: IndexEntriesTask): IndexEntriesOutcome {
  try {
    return { ok: true, entries: indexEntries(task) };
  } catch (error) {
    return { ok: false, ...toWire(error) };
  }
}
