/**
 * The checkpoint streamer's work, as a pure module the tests can drive on
 * one thread: follow the WAL's durable batches (WalTail), feed every record
 * to the CheckpointWriter (inserts to the data file, deletes to the delta
 * file of the pair holding the version), and checkpoint when a trigger
 * fires — WAL bytes since the last checkpoint, elapsed time, a request —
 * then tell the log writer which WAL segments are free. PRECREATED files
 * are made ahead of need (CheckpointWriter.poolNeededSoon), so opening a new
 * pair does not wait on allocation. When to merge, and the db.merge() calls
 * waiting on it, are merge_scheduler.ts's job.
 */
import { join } from 'node:path';
import type { FileLayer } from '../files/file_layer.js';
import { segmentName } from '../log/wal_format.js';
import {
  CFP_COUNTS,
  CFP_STATE_ORDER,
  CHECKPOINTS,
  CLOSING,
  controlCells,
  DURABLE_TS,
  FIRST_NEEDED_SEQ,
  publishCells,
} from '../log/log_control.js';
import { visitRecord } from '../log/record.js';
import type { WaitClock } from '../threads/core_wait.js';
import { CheckpointWriter, streamStepBytes, type CheckpointResult } from './checkpoint_writer.js';
import { removeLeftovers } from './leftovers.js';
import { MergeScheduler } from './merge_scheduler.js';
import type { MergeRunner } from './merge_task.js';
import { readNewestRoot } from './root_format.js';
import type { MergeReport, StreamerData, StreamerInventory, StreamerStats } from './streamer_api.js';
import { WalTail, type TailRecord } from './wal_tail.js';

interface Request {
  uptoTs: number;
  resolve: (result: CheckpointResult | null) => void;
  reject: (error: Error) => void;
}

/** How long the streamer gathers durable records after a commit wakes it, before it streams them. */
const GATHER_MS = 5;

export type StreamerStep = 'streamed' | 'idle';

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
  private readonly merges: MergeScheduler;
  /** Bytes of the segments from the checkpoint's to the one being streamed, for the segments they were counted over. */
  private spannedBytes = { from: -1, to: -1, bytes: 0 };

  constructor(
    private readonly layer: FileLayer,
    data: StreamerData,
    runner: MergeRunner,
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
    const tail = this.tail;
    const host = {
      get streamedTs() {
        return tail.lastTs;
      },
      checkpoint: () => this.checkpoint(),
    };
    this.merges = new MergeScheduler(layer, this.writer, runner, data, host, now);
    const writer = this.writer;
    this.visit = (bytes, offset, length, where, view) => {
      visitRecord(bytes, offset, length, writer, where, view);
    };
  }

  /** Waits up to `waitMs` for new durable records, streams them, checkpoints if due. */
  step(waitMs: number): StreamerStep {
    let durable = Number(Atomics.load(this.cells, DURABLE_TS));
    if (durable <= this.tail.lastTs && !this.checkpointDue()) {
      // Woken by a commit, it naps before streaming, so that commits made one at a time wake this thread once
      // per GATHER_MS, not once each (a third thread's turn per commit, beside the log writer and the caller).
      if (Atomics.wait(this.cells, DURABLE_TS, BigInt(durable), waitMs) === 'ok')
        Atomics.wait(this.cells, CLOSING, 0n, GATHER_MS);
      durable = Number(Atomics.load(this.cells, DURABLE_TS));
    }
    const read = this.stream(durable);
    this.merges.collect();
    if (this.checkpointDue()) this.checkpoint();
    this.merges.advance();
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
      this.merges.mergeMs * 1000,
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
    return this.merges.request(uptoTs);
  }

  /** Waits for a merge task still running (before `finish`, so its result is installed or its files removed). */
  settleMerge(): Promise<void> {
    return this.merges.settle();
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
    this.tail.skipSealed();
    this.merges.collect();
    if (this.writer.mergeRunning) this.writer.abandonMerge(); // settleMerge was not awaited: the target is not trusted
    this.checkpoint();
    this.merges.answer(true);
    this.close();
  }

  /** Rejects every waiting checkpoint request (the streamer failed). */
  failAll(error: Error): void {
    for (const r of this.requests) r.reject(error);
    this.requests = [];
    this.merges.failAll(error);
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
      merge: {
        ...w.mergeCounters,
        mergeMs: this.merges.mergeMs,
        running: w.mergeRunning,
        lastError: this.merges.lastError,
      },
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
      Math.min(streamStepBytes(this.writer.fileCapacity), this.data.checkpointWalBytes - this.walBytesSince),
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
  /** Bytes of the WAL segments from the checkpoint's to the one being streamed (segments grow: each counted as it is). */
  private walBytesSpanned(): number {
    const from = this.wal.seq;
    const to = this.tail.seq;
    const s = this.spannedBytes;
    if (s.from !== from || s.to !== to) {
      let bytes = 0;
      for (let seq = from; seq <= to; seq++) {
        const path = join(this.data.dir, segmentName(seq));
        bytes += this.layer.exists(path) ? this.layer.size(path) : this.data.walSegmentBytes;
      }
      this.spannedBytes = { from, to, bytes };
    }
    return this.spannedBytes.bytes;
  }

  private checkpointDue(): boolean {
    const trigger = this.data.checkpointWalBytes;
    if (this.walBytesSince >= trigger) return true;
    // One segment early: the log writer may be a segment ahead of the streamer while the checkpoint is made.
    // The trigger is at least one segment (options.ts checks it at open), so whole segments can reach it.
    const spanned = this.tail.seq - this.wal.seq + 1;
    if (spanned > 1 && this.walBytesSpanned() + this.data.walSegmentBytes >= trigger) return true;
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
