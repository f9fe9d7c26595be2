/**
 * Recovery progress: what `open()` reports while it loads a database, to the
 * `onProgress` callback and on the diagnostics channel "tidemark:recovery"
 * (node:diagnostics_channel), so a service can log it and a CLI can draw
 * bars. Reports are throttled to one per PROGRESS_INTERVAL_MS, plus one at
 * the start and the end of every phase.
 */
import diagnostics_channel from 'node:diagnostics_channel';

export const RECOVERY_CHANNEL = 'tidemark:recovery';
export const PROGRESS_INTERVAL_MS = 100;

export type RecoveryPhase = 'checkpoint' | 'indexes' | 'wal' | 'done';

/** One checkpoint file pair being loaded. */
export interface CfpProgress {
  id: number;
  /** Bytes of its data file read so far, and its valid length. */
  bytes: number;
  totalBytes: number;
  /** Live rows linked so far. */
  rows: number;
  done: boolean;
}

export interface RecoveryProgress {
  dir: string;
  phase: RecoveryPhase;
  /** Bytes done in this phase and the phase's total (checkpoint: data files; wal: bytes replayed, total unknown until the end). */
  bytes: number;
  totalBytes: number;
  /** Rows linked (checkpoint), indexed (indexes) or log records replayed (wal). */
  rows: number;
  /** The pairs of the checkpoint phase (empty in the others). */
  cfps: CfpProgress[];
  /** Recovery workers loading the pairs (0: on the main thread). */
  workers: number;
  elapsedMs: number;
}

export type ProgressListener = (progress: RecoveryProgress) => void;

export class ProgressReporter {
  private readonly channel = diagnostics_channel.channel(RECOVERY_CHANNEL);
  private readonly started = performance.now();
  private last = -Infinity;

  constructor(private readonly listener: ProgressListener | undefined) {}

  /** Whether anyone listens (the callback or a channel subscriber). */
  get active(): boolean {
    return this.listener !== undefined || this.channel.hasSubscribers;
  }

  /** Reports `make()` if anyone listens and the interval passed (always when `force`). */
  report(make: () => Omit<RecoveryProgress, 'elapsedMs'>, force = false): void {
    if (!this.active) return;
    const now = performance.now();
    if (!force && now - this.last < PROGRESS_INTERVAL_MS) return;
    this.last = now;
    const progress: RecoveryProgress = { ...make(), elapsedMs: now - this.started };
    this.listener?.(progress);
    if (this.channel.hasSubscribers) this.channel.publish(progress);
  }
}
