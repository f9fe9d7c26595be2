/**
 * Merge tasks on a worker pool (piscina): one thread, started on the first
 * merge and ended when idle, so a database that never merges never pays for
 * it. The checkpoint streamer owns it; the main thread does nothing for a
 * merge but ask for one.
 */
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { workerExecArgv } from '../threads/exec_argv.js';
import { workerBundle } from '../threads/worker_handle.js';
import type { MergeOutcome, MergeRunner, MergeTask } from './merge_task.js';

/** A merge thread idle this long ends (a later merge starts another). */
const MERGE_IDLE_MS = 10_000;

export class PoolMergeRunner implements MergeRunner {
  private pool: Piscina<MergeTask, MergeOutcome> | null = null;

  run(task: MergeTask): Promise<MergeOutcome> {
    this.pool ??= new Piscina<MergeTask, MergeOutcome>({
      filename: pathToFileURL(workerBundle('merge')).href,
      minThreads: 0,
      maxThreads: 1,
      concurrentTasksPerWorker: 1,
      idleTimeout: MERGE_IDLE_MS,
      execArgv: workerExecArgv(),
    });
    return this.pool.run(task);
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await pool?.destroy();
  }
}
