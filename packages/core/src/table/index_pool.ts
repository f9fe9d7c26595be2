/**
 * An index build's worker (piscina, one thread, started for the build and
 * ended after it, all its rounds on the same thread): it computes the
 * index's entries from the shared arena (index_entries.ts) while the main
 * thread goes on with commits. The database's close aborts it.
 */
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { ErrorCode, fromWire, TidemarkError, type WireError } from '../errors.js';
import { workerExecArgv } from '../threads/exec_argv.js';
import { workerBundle } from '../threads/worker_handle.js';
import type { IndexEntries, IndexEntriesTask } from './index_entries.js';

export type IndexEntriesOutcome = { ok: true; entries: IndexEntries } | ({ ok: false } & WireError);

export class IndexWorker {
  readonly #pool = new Piscina<IndexEntriesTask, IndexEntriesOutcome>({
    filename: pathToFileURL(workerBundle('index_build')).href,
    minThreads: 1,
    maxThreads: 1,
    execArgv: workerExecArgv(),
  });

  constructor(private readonly signal: AbortSignal) {}

  /** The entries of `task`; rejects with CLOSED once the signal aborts. */
  async entries(task: IndexEntriesTask): Promise<IndexEntries> {
    try {
      const outcome = await this.#pool.run(task, { signal: this.signal });
      if (!outcome.ok) throw fromWire(outcome, 'an index build worker');
      return outcome.entries;
    } catch (error) {
      if (this.signal.aborted)
        throw new TidemarkError(ErrorCode.CLOSED, 'the database was closed while an index was built');
      throw error;
    }
  }

  /** Ends the thread. */
  destroy(): Promise<void> {
    return this.#pool.destroy();
  }
}
