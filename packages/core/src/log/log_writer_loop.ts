/**
 * The log writer's work, as a pure module the tests can drive on one thread:
 * take every record published in the ring into the batch being built, and
 * when a sync is due — at once when a caller waits on a commit (WAITED_TS
 * above DURABLE_TS), otherwise within `maxDelayMs` (delayed durability) —
 * write the batch and fdatasync it, then publish the newest durable
 * commitTs. A batch is never written without its sync following before the
 * next write.
 *
 * A full disk is waited out, not failed: while the next segment cannot be
 * reserved the disk state says so (the main thread refuses new writes) and
 * the log goes on writing into the current segment; when a write itself
 * finds no space, nothing more is acknowledged, and every PROBE_MS the step
 * tries the same write again, which is safe because a failed write leaves
 * the batch built and the position unchanged. Any other error — an EIO, a
 * failed fdatasync — is thrown: the engine stops (see RELIABILITY.md).
 */
import { join } from 'node:path';
import { isDiskFull, type FileLayer } from '../files/file_layer.js';
import { RingConsumer } from '../ring/ring.js';
import {
  ARCHIVE_NEXT,
  CLOSING,
  CURSOR_TS,
  controlCells,
  diskStateName,
  DISK_STATE,
  DiskState,
  DURABLE_TS,
  FIRST_NEEDED_SEQ,
  publishCells,
  publishDurable,
  publishWriterFailed,
  SYNC_WAITED_TS,
  WAITED_TS,
  WAL_BYTES,
} from './log_control.js';
import type { LogWriterData, LogWriterStats } from './log_writer_api.js';
import { WalArchiver } from './wal_archiver.js';
import { listSegments } from './wal_reader.js';
import { segmentName } from './wal_format.js';
import { WalWriter } from './wal_writer.js';

/** Records per batch at most, so a flood of small commits still syncs regularly. */
const MAX_RECORDS_PER_BATCH = 65_536;
/** How long the writer polls for the next record after a sync that a synchronous caller waited on (SYNC_WAITED_TS). */
const SPIN_AFTER_SYNC_WAIT_MS = 0.25;
/** How often a full disk is probed for space again. */
export const PROBE_MS = 100;

export type StepResult = 'wrote' | 'idle' | 'closed';

export class LogWriterLoop {
  private readonly consumer: RingConsumer;
  private readonly cells: BigInt64Array;
  /** The last sync was one a synchronous caller waited on: poll for its next record before sleeping. */
  private spinNext = false;
  private readonly writer: WalWriter;
  private readonly maxDelayMs: number;
  private syncs = 0;
  /** When the oldest written-but-unsynced batch was written (-1: none). */
  private unsyncedSince = -1;
  /** A write found no space: nothing is read or synced before a probe at this time succeeds (-1: none pending). */
  private stalledUntil = -1;
  /** The spare segment could not be reserved: try again at this time (-1: not failing). */
  private reserveRetryAt = -1;
  private diskFullEvents = 0;
  /** Copies sealed segments to options.archiveDir (null without one). */
  private readonly archiver: WalArchiver | null;
  /** The retention bound (retainBound) as last worked out, and the FIRST_NEEDED_SEQ it was worked out for. */
  private retained = { firstNeeded: -1, bound: 0 };

  constructor(
    private readonly layer: FileLayer,
    private readonly data: LogWriterData,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.consumer = new RingConsumer(data.ring);
    this.cells = controlCells(data.control);
    this.maxDelayMs = data.maxDelayMs;
    this.archiver =
      data.archiveDir === null
        ? null
        : new WalArchiver(layer, data.dir, data.archiveDir, listSegments(layer, data.dir)[0] ?? data.seq, now);
    this.writer = new WalWriter(layer, data.dir, {
      segmentBytes: data.walSegmentBytes,
      databaseId: BigInt(data.databaseId),
      seq: data.seq,
      offset: data.offset,
      zeroUntil: data.zeroUntil,
      lastCommitTs: data.lastCommitTs,
      firstNeeded: () => Number(Atomics.load(this.cells, FIRST_NEEDED_SEQ)),
      maxSegments: data.maxSegments,
      archivedBefore: () => this.archiver?.next ?? Number.POSITIVE_INFINITY,
      cursorTs: () => Number(Atomics.load(this.cells, CURSOR_TS)),
      retainBound: () => this.retainBound(),
    });
  }

  /** Waits up to `waitMs` for records (less if unsynced ones are due), writes them, syncs when due. */
  step(waitMs: number): StepResult {
    if (this.stalledUntil >= 0) return this.probe(waitMs);
    try {
      return this.work(waitMs);
    } catch (error) {
      if (!isDiskFull(error)) throw error;
      this.stall();
      return 'idle';
    }
  }

  private work(waitMs: number): StepResult {
    const due =
      this.unsyncedSince < 0
        ? waitMs
        : Math.max(0, Math.min(waitMs, this.unsyncedSince + this.maxDelayMs - this.now()));
    const state = this.consumer.waitForData(due, this.spinNext ? SPIN_AFTER_SYNC_WAIT_MS : 0);
    this.spinNext = false;
    if (state === 'closed') {
      if (this.unsyncedSince >= 0) this.sync();
      return 'closed';
    }
    let count = 0;
    if (state === 'data') {
      const writer = this.writer;
      // A record whose add throws (a full disk) stays unread; the ones before it are in the batch.
      count = this.consumer.read((bytes, offset, length) => writer.add(bytes, offset, length), MAX_RECORDS_PER_BATCH);
      // The records are copied into the batch buffer: the ring can take more while we write and sync.
      this.consumer.release();
      if (count > 0 && this.unsyncedSince < 0) this.unsyncedSince = this.now();
    }
    // The batch is written only when it is synced: one batch per fdatasync, so a crash can tear only the last
    // batch of the log, and a bad batch with a valid one after it is damage, never a crash (docs/FORMAT.md).
    if (this.unsyncedSince >= 0 && this.syncIsDue()) this.sync();
    this.reserve();
    this.archive();
    return count > 0 ? 'wrote' : 'idle';
  }

  /** A write found no space: hold everything (the batch stays built) and tell the main thread. */
  private stall(): void {
    this.consumer.release();
    this.stalledUntil = this.now() + PROBE_MS;
    this.setDisk(DiskState.STALLED);
  }

  /** While stalled: at each probe time, retry the write that failed; resume when it succeeds. */
  private probe(waitMs: number): StepResult {
    const closing = this.consumer.closed || Atomics.load(this.cells, CLOSING) === 1n;
    const wait = this.stalledUntil - this.now();
    if (wait > 0 && !closing) {
      // Sleep on the disk cell (only this thread moves it); the worker still yields between steps.
      Atomics.wait(this.cells, DISK_STATE, DiskState.STALLED, Math.min(wait, waitMs));
      return 'idle';
    }
    try {
      this.writer.flush();
      if (this.unsyncedSince < 0) this.unsyncedSince = this.now();
      this.sync();
    } catch (error) {
      // Closing with no space: what is not durable now never will be by this process, so say so and stop.
      if (!isDiskFull(error) || closing) throw error;
      this.stalledUntil = this.now() + PROBE_MS;
      return 'idle';
    }
    this.stalledUntil = -1;
    this.setDisk(this.reserveRetryAt >= 0 ? DiskState.NO_RESERVE : DiskState.OK);
    return 'wrote';
  }

  /**
   * Reserves the next segment's space once this one is half used, a chunk
   * per step. While that fails the main thread refuses new writes, so the
   * commits in flight still fit the current segment.
   */
  private reserve(): void {
    if (!this.writer.spareWanted && this.reserveRetryAt < 0) return;
    if (this.reserveRetryAt >= 0 && this.now() < this.reserveRetryAt) return;
    let ready: boolean;
    try {
      ready = this.writer.prepareSpare();
    } catch (error) {
      if (!isDiskFull(error)) throw error;
      this.reserveRetryAt = this.now() + PROBE_MS;
      this.setDisk(DiskState.NO_RESERVE);
      return;
    }
    // Writes are accepted again only once the whole spare is reserved, not after one chunk of it.
    if (ready && this.reserveRetryAt >= 0) {
      this.reserveRetryAt = -1;
      this.setDisk(DiskState.OK);
    }
  }

  /** Segments below it go whatever the archive and the cursors would keep: options.maxRetainedWalBytes past the checkpoint's. */
  private retainBound(): number {
    const firstNeeded = Number(Atomics.load(this.cells, FIRST_NEEDED_SEQ));
    if (firstNeeded === this.retained.firstNeeded) return this.retained.bound;
    // Segments grow, so the bound is counted in bytes: the segments before the checkpoint's, newest first.
    let bound = firstNeeded;
    let bytes = 0;
    while (bound > 0) {
      const path = join(this.data.dir, segmentName(bound - 1));
      if (!this.layer.exists(path)) break;
      bytes += this.layer.size(path);
      if (bytes > this.data.maxRetainedWalBytes) break;
      bound--;
    }
    this.retained = { firstNeeded, bound };
    return bound;
  }

  /** A chunk of the archive's next copy, and its figures published. */
  private archive(): void {
    const archiver = this.archiver;
    if (archiver === null) return;
    archiver.step(this.writer.currentSeq, this.retainBound());
    publishCells(this.cells, ARCHIVE_NEXT, [archiver.next, archiver.failing ? 1 : 0, archiver.skipped]);
  }

  private setDisk(state: bigint): void {
    const was = Atomics.exchange(this.cells, DISK_STATE, state);
    if (was === DiskState.OK && state !== DiskState.OK) this.diskFullEvents++;
  }

  private syncIsDue(): boolean {
    const waited = Atomics.load(this.cells, WAITED_TS) > Atomics.load(this.cells, DURABLE_TS);
    return waited || this.now() - this.unsyncedSince >= this.maxDelayMs;
  }

  private sync(): void {
    const durableTs = this.writer.sync();
    const syncWaited = Atomics.load(this.cells, SYNC_WAITED_TS);
    this.spinNext = syncWaited > Atomics.load(this.cells, DURABLE_TS) && syncWaited <= BigInt(durableTs);
    if (BigInt(durableTs) > Atomics.load(this.cells, DURABLE_TS)) publishDurable(this.cells, durableTs);
    this.syncs++;
    this.unsyncedSince = -1;
    publishCells(this.cells, WAL_BYTES, [this.writer.bytesWritten, this.writer.batchesWritten, this.syncs]);
  }

  stats(): LogWriterStats {
    return {
      batches: this.writer.batchesWritten,
      bytes: this.writer.bytesWritten,
      syncs: this.syncs,
      segmentsCreated: this.writer.segmentsCreated,
      segmentsRecycled: this.writer.segmentsRecycled,
      segmentsDeleted: this.writer.segmentsDeleted,
      durableTs: Number(Atomics.load(this.cells, DURABLE_TS)),
      reservedBytes: this.writer.reservedBytes,
      diskFullEvents: this.diskFullEvents,
      disk: diskStateName(this.cells),
    };
  }

  /** Says in the shared cells that this writer failed (before its error reaches the main thread as a message). */
  markFailed(): void {
    publishWriterFailed(this.cells);
  }

  /** Closes the files; `clean` (the ring closed, everything synced) also lets the writer end in a small segment. */
  close(clean = false): void {
    this.archiver?.close();
    this.writer.close(clean);
  }
}
