/** What the main thread hands a recovery task (a piscina task), and what the task returns. */
import type { CfpTask, CfpTaskResult } from './cfp_task.js';
import type { WireError } from '../errors.js';

export interface RecoveryTaskData {
  task: CfpTask;
  /** The task's ring to the main thread, and the doorbell every task rings after publishing. */
  ring: SharedArrayBuffer;
  bell: SharedArrayBuffer;
}

/** A task never throws across the thread boundary (an Error loses its code there): it returns its failure. */
export type RecoveryTaskOutcome = { ok: true; result: CfpTaskResult } | ({ ok: false } & WireError);
