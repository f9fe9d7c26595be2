/**
 * An index build's worker (piscina, one thread, started for the build and
 * ended after it): it computes the index's entries from the shared arena
 * (index_entries.ts) while the main thread goes on with commits. The
 * database's close aborts it.
 */
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { ErrorCode, fromWire, TidemarkError, type WireError } from '../errors.js';
import { workerExecArgv } from '../threads/exec_argv.js';
import { workerBundle } from '../threads/worker_handle.js';
import type { IndexEntries, IndexEntriesTask } from './index_entries.js';

export type IndexEntriesOutcome = { ok: true; entries: IndexEntries } | ({ ok: false } & WireError);

/** The entries of `task` from a worker; rejects with CLOSED once `signal` aborts. */
export async function indexEntriesOnWorker(task: IndexEntriesTask, signal: AbortSignal): Promise<IndexEntries> {
  const pool = new Piscina<IndexEntriesTask, IndexEntriesOutcome>({
    filename: pathToFileURL(workerBundle('index_build')).href,
    minThreads: 0,
    maxThreads: 1,
    execArgv: workerExecArgv(),
  });
  try {
    const outcome = await pool.run(task, { signal });
    if (!outcome.ok) throw fromWire(outcome, 'an index build worker');
    return outcome.entries;
  } catch (error) {
    if (signal.aborted) throw new TidemarkError(ErrorCode.CLOSED, 'the database was closed while an index was built');
    throw error;
  } finally {
    await pool.destroy();
  }
}
