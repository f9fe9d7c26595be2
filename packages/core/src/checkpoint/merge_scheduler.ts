/**
 * The streamer's merge scheduling: when to ask the policy for a merge, the
 * one merge task running at a time (on the merge pool), what to do with its
 * outcome (install at the next checkpoint, or remove its files and retry
 * later), and the `db.merge()` calls waiting until nothing is left to merge,
 * install or retire. It runs inside the streamer's loop (streamer_loop.ts),
 * which gives it the checkpoint writer and makes the checkpoints it needs.
 */
import { toWire } from '../errors.js';
import type { FileLayer } from '../files/file_layer.js';
import { FILE_HEADER_BYTES } from '../files/file_header.js';
import { CfpState } from './cfp_format.js';
import type { CheckpointWriter } from './checkpoint_writer.js';
import type { MergePlan } from './merge_policy.js';
import type { MergeOutcome, MergeResult, MergeRunner } from './merge_task.js';
import type { FilledOptions } from '../options.js';
import type { MergeReport } from './streamer_api.js';

/** After a failed merge, the policy waits this long before trying again on its own. */
const MERGE_RETRY_MS = 30_000;

interface MergeRequest {
  uptoTs: number;
  started: number;
  merges: MergeResult[];
  filesDeleted: number;
  error: MergeReport['error'];
  resolve: (report: MergeReport) => void;
}

/** What the scheduler reads of the streamer: how far it streamed, and a checkpoint made on request. */
export interface MergeHost {
  readonly streamedTs: number;
  checkpoint(): void;
}

export type MergeSchedulerOptions = Pick<
  FilledOptions,
  'merges' | 'mergeIntervalMs' | 'mergeDeadFraction' | 'dataFileSizeBytes'
>;

export class MergeScheduler {
  /** The merge task running (null: none), and how it ended once it has. */
  private merging: Promise<void> | null = null;
  private outcome: MergeOutcome | null = null;
  private started = 0;
  /** Time spent in merge tasks. */
  mergeMs = 0;
  private lastCheck: number;
  private retryAt = 0;
  private closedSeen = 0;
  /** A merge finished: the policy looks again once it is installed, so merges run back to back while there is work. */
  private finished = false;
  private requests: MergeRequest[] = [];
  lastError: MergeReport['error'] = null;

  constructor(
    private readonly layer: FileLayer,
    private readonly writer: CheckpointWriter,
    private readonly runner: MergeRunner,
    private readonly options: MergeSchedulerOptions,
    private readonly host: MergeHost,
    private readonly now: () => number,
  ) {
    this.lastCheck = now();
  }

  /** Resolves once everything durable up to `uptoTs` is streamed and no merge the policy wants is left undone. */
  request(uptoTs: number): Promise<MergeReport> {
    return new Promise((resolve) =>
      this.requests.push({
        uptoTs,
        started: this.now(),
        merges: [],
        filesDeleted: this.writer.mergeCounters.filesDeleted,
        error: null,
        resolve,
      }),
    );
  }

  /** Waits for a merge task still running (before the streamer finishes, so its result is installed or its files removed). */
  async settle(): Promise<void> {
    await this.merging;
    this.collect();
  }

  /** Answers every waiting db.merge() call with the streamer's failure. */
  failAll(error: Error): void {
    // No disk figures: the file layer is what failed.
    const failure = toWire(error);
    for (const r of this.requests) r.resolve(this.report(r, failure, false));
    this.requests = [];
  }

  /** Takes a finished merge task's outcome: install it at the next checkpoint, or remove its files. */
  collect(): void {
    const outcome = this.outcome;
    if (outcome === null) return;
    this.outcome = null;
    this.merging = null;
    this.mergeMs += this.now() - this.started;
    if (outcome.ok) {
      this.writer.finishMerge(outcome.result);
      this.finished = true;
      for (const r of this.requests) r.merges.push(outcome.result);
      return;
    }
    this.writer.abandonMerge();
    this.lastError = { code: outcome.code, message: outcome.message };
    this.retryAt = this.now() + MERGE_RETRY_MS;
    for (const r of this.requests) r.error ??= this.lastError;
  }

  /**
   * Starts a merge when the policy finds one — evaluated when a data file
   * closed, once the last merge is installed, every mergeIntervalMs, and
   * while db.merge() waits — and answers
   * db.merge() calls once nothing is left to merge, install or retire.
   */
  advance(): void {
    const options = this.options;
    const writer = this.writer;
    if (this.merging !== null || writer.mergeInstallPending) return;
    const now = this.now();
    const asked = this.requests.some((r) => r.uptoTs <= this.host.streamedTs && r.error === null);
    const closed = writer.closedFiles !== this.closedSeen;
    const timely = options.mergeIntervalMs > 0 && now - this.lastCheck >= options.mergeIntervalMs;
    if (options.merges && (asked || ((closed || timely || this.finished) && now >= this.retryAt))) {
      this.closedSeen = writer.closedFiles;
      this.finished = false;
      this.lastCheck = now;
      const plan = writer.planMerge({
        targetBytes: options.dataFileSizeBytes - FILE_HEADER_BYTES,
        deadFraction: options.mergeDeadFraction,
      });
      if (plan !== null) {
        this.start(plan);
        return;
      }
    }
    this.answer(false);
  }

  private start(plan: MergePlan): void {
    const task = this.writer.beginMerge(plan);
    this.started = this.now();
    this.merging = this.runner.run(task).then(
      (outcome) => {
        this.outcome = outcome;
      },
      (error: unknown) => {
        this.outcome = { ok: false, ...toWire(error) };
      },
    );
  }

  /**
   * Answers the db.merge() calls that are caught up, once the merged sources
   * are retired: one more checkpoint turns them TOMBSTONE and deletes their
   * files (a second drops them from the root). With `final`, answers all.
   */
  answer(final: boolean): void {
    const ready = this.requests.filter((r) => final || r.uptoTs <= this.host.streamedTs);
    if (ready.length === 0) return;
    if (!final && this.writer.retiringFiles) {
      this.host.checkpoint();
      if (this.writer.retiringFiles) return;
    }
    this.requests = this.requests.filter((r) => !ready.includes(r));
    for (const r of ready) r.resolve(this.report(r, r.error));
  }

  private report(r: MergeRequest, error: MergeReport['error'], disk = true): MergeReport {
    const entries = this.writer.entries();
    const holding = entries.filter((e) => e.state === CfpState.ACTIVE || e.state === CfpState.UNDER_CONSTRUCTION);
    const diskBytes = disk
      ? entries.reduce((sum, e) => sum + (e.state === CfpState.TOMBSTONE ? 0 : this.fileBytes(e.id)), 0)
      : 0;
    return {
      merges: r.merges,
      filesDeleted: this.writer.mergeCounters.filesDeleted - r.filesDeleted,
      cfps: holding.length,
      diskBytes,
      durationMs: this.now() - r.started,
      error,
    };
  }

  private fileBytes(id: number): number {
    let bytes = 0;
    for (const name of this.writer.fileNames(id)) if (this.layer.exists(name)) bytes += this.layer.size(name);
    return bytes;
  }
}
