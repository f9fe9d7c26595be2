/**
 * Where a backup's copies run. In-process (db.backup) every step runs on a
 * worker thread of its own pool (the `backup` bundle over backupTask), so
 * the main thread only plans and waits: reading and writing files never
 * holds the event loop. The CLI, a process of its own, runs them inline.
 * A step's outcome crosses the thread boundary as data (an Error's class
 * and code do not): BackupRetry comes back as `retry`.
 */
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import { fromWire, toWire, type WireError } from '../errors.js';
import { workerExecArgv } from '../threads/exec_argv.js';
import { LoopHold } from '../threads/loop_hold.js';
import { workerBundle } from '../threads/worker_handle.js';
import { finishBackup, type BackupRunner, type FinishTask } from './backup.js';
import { BackupRetry, runCopyStep, type CopyStep } from './copy_step.js';

export type BackupTask = { op: 'step'; step: CopyStep; fileMode: number } | { op: 'finish'; task: FinishTask };

export type BackupOutcome = { ok: true; value: number } | { ok: false; retry: boolean; error: WireError };

/** Runs one task (on a worker, or inline); never throws. */
export function backupTask(task: BackupTask): BackupOutcome {
  try {
    const value = task.op === 'step' ? runCopyStep(task.step, task.fileMode) : finishBackup(task.task);
    return { ok: true, value };
  } catch (error) {
    return { ok: false, retry: error instanceof BackupRetry, error: toWire(error) };
  }
}

function outcomeValue(outcome: BackupOutcome): number {
  if (outcome.ok) return outcome.value;
  if (outcome.retry) throw new BackupRetry(outcome.error.message);
  throw fromWire(outcome.error);
}

export function inlineBackupRunner(fileMode: number): BackupRunner {
  return {
    step: async (step) => outcomeValue(backupTask({ op: 'step', step, fileMode })),
    finish: async (task) => outcomeValue(backupTask({ op: 'finish', task })),
  };
}

/** A one-thread pool for one backup; `close()` ends it. */
export function poolBackupRunner(fileMode: number): BackupRunner & { close(): Promise<void> } {
  const pool = new Piscina<BackupTask, BackupOutcome>({
    filename: pathToFileURL(workerBundle('backup')).href,
    minThreads: 1,
    maxThreads: 1,
    execArgv: workerExecArgv(),
  });
  // The pool's thread is unref'd: the loop is held while a task runs (threads/loop_hold.ts).
  const loop = new LoopHold();
  const run = async (task: BackupTask): Promise<number> => {
    loop.hold();
    try {
      return outcomeValue(await pool.run(task));
    } finally {
      loop.release();
    }
  };
  return {
    step: (step: CopyStep) => run({ op: 'step', step, fileMode }),
    finish: (task: FinishTask) => run({ op: 'finish', task }),
    close: async () => {
      loop.dispose();
      await pool.destroy();
    },
  };
}
