/**
 * The checkpoint streamer's work, as a pure module the tests can drive on
 * one thread: follow the WAL's durable batches (WalTail), feed every record
 * to the CheckpointWriter (inserts to the data file, deletes to the delta
 * file of the pair holding the version), and checkpoint when a trigger
 * fires — WAL bytes since the last checkpoint, elapsed time, a request —
 * then tell the log writer which WAL segments are free. PRECREATED files
 * are made ahead of need (CheckpointWriter.poolNeededSoon), so opening a new
 * pair does not wait on allocation.
 */
import {
  CFP_COUNTS,
  CFP_STATE_ORDER,
  CHECKPOINTS,
  CfpState,
  CheckpointWriter,
  controlCells,
  publishCells,
  FILE_HEADER_BYTES,
  DURABLE_TS,
  FIRST_NEEDED_SEQ,
  readNewestRoot,
  removeLeftovers,
  streamStepBytes,
  visitRecord,
  WalTail,
  type TailRecord,
  type CheckpointResult,
  type FileLayer,
  type MergeOutcome,
  type MergePlan,
  type MergeReport,
  type MergeResult,
  type MergeRunner,
  type StreamerData,
  type StreamerInventory,
  type StreamerStats,
  type WaitClock,
} from '@tidemark/core/internal';

interface Request {
  uptoTs: number;
  resolve: (result: CheckpointResult | null) => void;
  reject: (error: Error) => void;
}

export type StreamerStep = 'streamed' | 'idle';

interface MergeRequest {
  uptoTs: number;
  started: number;
  merges: MergeResult[];
  filesDeleted: number;
  error: MergeReport['error'];
  resolve: (report: MergeReport) => void;
}

/** After a failed merge, the policy waits this long before trying again on its own. */
const MERGE_RETRY_MS = 30_000;

export class StreamerLoop {
  private readonly cells: BigInt64Array;
  private readonly tail: WalTail;
  private readonly writer: CheckpointWriter;
  private readonly data: StreamerData;
  private walBytesSince = 0;
  private lastCheckpointAt: number;
  private requests: Request[] = [];
  private readonly visit: TailRecord;
  private checkpointMs = 0;
  private streamMs = 0;
  private poolMs = 0;
  /** Of streamMs and checkpointMs, the time the thread waited for a core (reported as null with no clock). */
  private streamCoreWaitMs = 0;
  private checkpointCoreWaitMs = 0;
  private lastCheckpoint: CheckpointResult | null = null;
  private wal: { seq: number; offset: number };
  /** The merge task running (null: none), and how it ended once it has. */
  private merging: Promise<void> | null = null;
  private mergeOutcome: MergeOutcome | null = null;
  private mergeStarted = 0;
  private mergeMs = 0;
  private lastMergeCheck: number;
  private mergeRetryAt = 0;
  private closedSeen = 0;
  /** A merge finished: the policy looks again once it is installed, so merges run back to back while there is work. */
  private mergeFinished = false;
  private mergeRequests: MergeRequest[] = [];
  private lastMergeError: MergeReport['error'] = null;

  constructor(
    private readonly layer: FileLayer,
    data: StreamerData,
    private readonly merges: MergeRunner,
    private readonly now: () => number = () => performance.now(),
    private readonly coreWait: WaitClock | null = null,
  ) {
    this.data = data;
    this.cells = controlCells(data.control);
    const databaseId = BigInt(data.databaseId);
    const root = data.restart ? readNewestRoot(layer, data.dir).root : data.root;
    if (data.restart) removeLeftovers(layer, data.dir, root);
    this.wal = root?.wal ?? { seq: 0, offset: 64 };
    this.tail = new WalTail(layer, data.dir, databaseId, this.wal, root?.checkpointTs ?? 0);
    this.writer = new CheckpointWriter(
      layer,
      {
        dir: data.dir,
        databaseId,
        dataFileSizeBytes: data.dataFileSizeBytes,
        precreatedFiles: data.precreatedFiles,
        fileMode: data.fileMode,
      },
      root,
    );
    this.lastCheckpointAt = now();
    this.lastMergeCheck = now();
    const writer = this.writer;
    this.visit = (bytes, offset, length, where, view) => {
      visitRecord(bytes, offset, length, writer, where, view);
    };
  }

  /** Waits up to `waitMs` for new durable records, streams them, checkpoints if due. */
  step(waitMs: number): StreamerStep {
    let durable = Number(Atomics.load(this.cells, DURABLE_TS));
    if (durable <= this.tail.lastTs && !this.checkpointDue()) {
      Atomics.wait(this.cells, DURABLE_TS, BigInt(durable), waitMs);
      durable = Number(Atomics.load(this.cells, DURABLE_TS));
    }
    const read = this.stream(durable);
    this.collectMerge();
    if (this.checkpointDue()) this.checkpoint();
    this.advanceMerges();
    if (this.writer.poolNeededSoon()) this.topUpPool();
    this.publishStats();
    return read > 0 ? 'streamed' : 'idle';
  }

  /** Publishes the figures db.stats() shows into the control cells (log_control.ts). */
  private publishStats(): void {
    const w = this.writer;
    publishCells(this.cells, CHECKPOINTS, [
      w.checkpoints,
      this.checkpointMs * 1000,
      w.mergeCounters.merges,
      this.mergeMs * 1000,
      this.tail.lastTs,
      w.checkpointTs,
    ]);
    const counts = w.countByState();
    publishCells(
      this.cells,
      CFP_COUNTS,
      CFP_STATE_ORDER.map((state) => counts[state]),
    );
  }

  /** Resolves once everything durable up to `uptoTs` is streamed and no merge the policy wants is left undone. */
  requestMerge(uptoTs: number): Promise<MergeReport> {
    return new Promise((resolve) =>
      this.mergeRequests.push({
        uptoTs,
        started: this.now(),
        merges: [],
        filesDeleted: this.writer.mergeCounters.filesDeleted,
        error: null,
        resolve,
      }),
    );
  }

  /** Waits for a merge task still running (before `finish`, so its result is installed or its files removed). */
  async settleMerge(): Promise<void> {
    await this.merging;
    this.collectMerge();
  }

  /** Resolves after a checkpoint that covers `uptoTs` (a commitTs already durable). */
  requestCheckpoint(uptoTs: number): Promise<CheckpointResult | null> {
    return new Promise((resolve, reject) => this.requests.push({ uptoTs, resolve, reject }));
  }

  /** Streams everything durable up to `finalTs`, checkpoints, and closes the files. */
  finish(finalTs: number): void {
    while (
      this.tail.lastTs < finalTs &&
      this.stream(Math.max(finalTs, Number(Atomics.load(this.cells, DURABLE_TS)))) > 0
    );
    this.collectMerge();
    if (this.writer.mergeRunning) this.writer.abandonMerge(); // settleMerge was not awaited: the target is not trusted
    this.checkpoint();
    this.answerMergeRequests(true);
    this.close();
  }

  /** Rejects every waiting checkpoint request (the streamer failed). */
  failAll(error: Error): void {
    for (const r of this.requests) r.reject(error);
    this.requests = [];
    // No disk figures: the file layer is what failed.
    for (const r of this.mergeRequests)
      r.resolve(
        this.report(r, { code: (error as { code?: string }).code ?? 'TM_IO_ERROR', message: error.message }, false),
      );
    this.mergeRequests = [];
  }

  stats(): StreamerStats {
    const w = this.writer;
    return {
      checkpoints: w.checkpoints,
      streamedTs: this.tail.lastTs,
      checkpointTs: w.checkpointTs,
      rootSeq: w.seq,
      walBytesStreamed: this.tail.bytesRead,
      bytesWritten: w.bytesWritten,
      filesCreated: w.filesCreated,
      poolMisses: w.poolMisses,
      poolMs: this.poolMs,
      merge: { ...w.mergeCounters, mergeMs: this.mergeMs, running: w.mergeRunning, lastError: this.lastMergeError },
      checkpointMs: this.checkpointMs,
      streamMs: this.streamMs,
      streamCoreWaitMs: this.coreWait === null ? null : this.streamCoreWaitMs,
      checkpointCoreWaitMs: this.coreWait === null ? null : this.checkpointCoreWaitMs,
      lastCheckpoint: this.lastCheckpoint,
    };
  }

  inventory(): StreamerInventory {
    return {
      rootSeq: this.writer.seq,
      checkpointTs: this.writer.checkpointTs,
      wal: { ...this.wal },
      cfps: this.writer.entries(),
    };
  }

  close(): void {
    this.tail.close();
    this.writer.close();
    this.coreWait?.close();
  }

  /** The time waited for a core so far (0 with no clock), to subtract from a later reading. */
  private waitedNow(): number {
    return this.coreWait === null ? 0 : this.coreWait.read();
  }

  // ── Merges ─────────────────────────────────────────────────────────────

  /** Takes a finished merge task's outcome: install it at the next checkpoint, or remove its files. */
  private collectMerge(): void {
    const outcome = this.mergeOutcome;
    if (outcome === null) return;
    this.mergeOutcome = null;
    this.merging = null;
    this.mergeMs += this.now() - this.mergeStarted;
    if (outcome.ok) {
      this.writer.finishMerge(outcome.result);
      this.mergeFinished = true;
      for (const r of this.mergeRequests) r.merges.push(outcome.result);
      return;
    }
    this.writer.abandonMerge();
    this.lastMergeError = { code: outcome.code, message: outcome.message };
    this.mergeRetryAt = this.now() + MERGE_RETRY_MS;
    for (const r of this.mergeRequests) r.error ??= this.lastMergeError;
  }

  /**
   * Starts a merge when the policy finds one — evaluated when a data file
   * closed, once the last merge is installed, every mergeIntervalMs, and
   * while db.merge() waits — and answers
   * db.merge() calls once nothing is left to merge, install or retire.
   */
  private advanceMerges(): void {
    const data = this.data;
    const writer = this.writer;
    if (this.merging !== null || writer.mergeInstallPending) return;
    const now = this.now();
    const asked = this.mergeRequests.some((r) => r.uptoTs <= this.tail.lastTs && r.error === null);
    const closed = writer.closedFiles !== this.closedSeen;
    const timely = data.mergeIntervalMs > 0 && now - this.lastMergeCheck >= data.mergeIntervalMs;
    if (data.merges && (asked || ((closed || timely || this.mergeFinished) && now >= this.mergeRetryAt))) {
      this.closedSeen = writer.closedFiles;
      this.mergeFinished = false;
      this.lastMergeCheck = now;
      const plan = writer.planMerge({
        targetBytes: data.dataFileSizeBytes - FILE_HEADER_BYTES,
        deadFraction: data.mergeDeadFraction,
      });
      if (plan !== null) {
        this.startMerge(plan);
        return;
      }
    }
    this.answerMergeRequests(false);
  }

  private startMerge(plan: MergePlan): void {
    const task = this.writer.beginMerge(plan);
    this.mergeStarted = this.now();
    this.merging = this.merges.run(task).then(
      (outcome) => {
        this.mergeOutcome = outcome;
      },
      (error: unknown) => {
        this.mergeOutcome = { ok: false, code: 'TM_IO_ERROR', message: (error as Error).message };
      },
    );
  }

  /**
   * Answers the db.merge() calls that are caught up, once the merged sources
   * are retired: one more checkpoint turns them TOMBSTONE and deletes their
   * files (a second drops them from the root). With `final`, answers all.
   */
  private answerMergeRequests(final: boolean): void {
    const ready = this.mergeRequests.filter((r) => final || r.uptoTs <= this.tail.lastTs);
    if (ready.length === 0) return;
    if (!final && this.writer.retiringFiles) {
      this.checkpoint();
      if (this.writer.retiringFiles) return;
    }
    this.mergeRequests = this.mergeRequests.filter((r) => !ready.includes(r));
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

  /** Pre-creates pool pairs, timed apart from streaming and checkpoints (it is neither). */
  private topUpPool(): void {
    const started = this.now();
    if (this.writer.topUpPool() > 0) this.poolMs += this.now() - started;
  }

  private stream(durable: number): number {
    if (durable <= this.tail.lastTs) return 0;
    const started = this.now();
    const waited = this.waitedNow();
    // Stop at the WAL-bytes trigger, so a checkpoint comes as soon as it is due.
    const room = Math.max(
      1,
      Math.min(streamStepBytes(this.data.dataFileSizeBytes), this.data.checkpointWalBytes - this.walBytesSince),
    );
    const read = this.tail.poll(durable, this.visit, room);
    if (read > 0) this.writer.flush();
    this.walBytesSince += read;
    this.streamCoreWaitMs += this.waitedNow() - waited;
    this.streamMs += this.now() - started;
    return read;
  }

  /**
   * Due when the WAL the newest checkpoint needs, counted in whole segments
   * from the checkpoint's segment to the one being streamed plus one (the
   * writer may be that far ahead), reaches `checkpointWalBytes` — so with the
   * writer at most two segments ahead the WAL on disk stays within the
   * trigger plus one segment — or that many bytes were streamed since it;
   * after `checkpointIntervalMs` with something new; when a finished merge
   * waits to be installed, or merged sources still have files (the
   * checkpoint after the install deletes them); or when a request waits.
   */
  private checkpointDue(): boolean {
    const trigger = this.data.checkpointWalBytes;
    if (this.walBytesSince >= trigger) return true;
    // One segment early: the log writer may be a segment ahead of the streamer while the checkpoint is made.
    const spanned = this.tail.seq - this.wal.seq + 1;
    if (trigger >= this.data.walSegmentBytes && spanned > 1 && (spanned + 1) * this.data.walSegmentBytes >= trigger)
      return true;
    const interval = this.data.checkpointIntervalMs;
    if (interval > 0 && this.now() - this.lastCheckpointAt >= interval && this.writer.lastTs > this.writer.checkpointTs)
      return true;
    if (this.writer.mergeInstallPending) return true;
    // Merged sources are deleted by the checkpoint after the one that installed their merge: make it now.
    if (this.writer.retiringFiles) return true;
    return this.requests.some((r) => r.uptoTs <= this.tail.lastTs);
  }

  private checkpoint(): void {
    const started = this.now();
    const waited = this.waitedNow();
    const wal = { seq: this.tail.seq, offset: this.tail.offset };
    const result = this.writer.checkpoint(wal, this.tail.bytesRead);
    this.walBytesSince = 0;
    this.lastCheckpointAt = this.now();
    if (result !== null) {
      this.wal = wal;
      this.lastCheckpoint = result;
      this.checkpointCoreWaitMs += this.waitedNow() - waited;
      this.checkpointMs += this.now() - started;
      if (BigInt(wal.seq) > Atomics.load(this.cells, FIRST_NEEDED_SEQ))
        Atomics.store(this.cells, FIRST_NEEDED_SEQ, BigInt(wal.seq));
    }
    const done = this.requests.filter((r) => r.uptoTs <= this.tail.lastTs);
    this.requests = this.requests.filter((r) => r.uptoTs > this.tail.lastTs);
    for (const r of done) r.resolve(result ?? this.lastCheckpoint);
  }
}
