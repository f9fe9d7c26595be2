/**
 * Opening a database directory: take the LOCK, load the newest checkpoint
 * (root file → CFPs), replay the WAL after it, then start the log writer
 * where the log ends and the checkpoint streamer where the checkpoint ends.
 * Closing drains the ring, stops the writer (which syncs), lets the streamer
 * stream the rest and publish a final checkpoint, and releases the LOCK. If
 * any step of opening fails, everything started so far is undone: no
 * half-open database, no leaked worker, no held lock.
 */
import { randomBytes } from 'node:crypto';
import type { CheckpointResult } from '../checkpoint/checkpoint_writer.js';
import type { CfpState } from '../checkpoint/cfp_format.js';
import type { NewestRoot, RootBody } from '../checkpoint/root_format.js';
import {
  STREAMER_OPTIONS,
  type MergeReport,
  type StreamerData,
  type StreamerInventory,
  type StreamerOption,
  type StreamerStats,
} from '../checkpoint/streamer_api.js';
import { ErrorCode, fromWire, TidemarkError } from '../errors.js';
import { isDiskFull, NodeFileLayer, type FileLayer } from '../files/file_layer.js';
import { acquireLock, type Lock } from '../files/lock.js';
import { pickOptions, type FilledOptions } from '../options.js';
import { newestRootOf, recoverDir, type RecoverOptions, type RecoveryReport } from '../recovery/recover_dir.js';
import { blameSkippedRoot } from '../recovery/skipped_root.js';
import { createRingBuffer, RingProducer } from '../ring/ring.js';
import {
  prepareThreads,
  workerThreads,
  type EngineThreads,
  type PreparedThreads,
  type ThreadHandle,
} from '../threads/engine_threads.js';
import { LoopHold } from '../threads/loop_hold.js';
import type { Engine } from '../txn/engine.js';
import { DurableSink } from './durable_sink.js';
import { Cursors } from '../feed/cursors.js';
import {
  ARCHIVE_FAILING,
  ARCHIVE_NEXT,
  ARCHIVE_SKIPPED,
  CFP_COUNTS,
  CFP_STATE_ORDER,
  CHECKPOINT_TS,
  CHECKPOINT_US,
  CHECKPOINTS,
  CLOSING,
  createLogControl,
  DISK_STATE,
  DiskState,
  diskStateName,
  DURABLE_TS,
  MERGE_US,
  MERGES,
  STREAMED_TS,
  WAL_BATCHES,
  WAL_BYTES,
  WAL_SYNCS,
  type DiskStateName,
} from './log_control.js';
import {
  LOG_WRITER_OPTIONS,
  type LogWriterApi,
  type LogWriterData,
  type LogWriterOption,
  type LogWriterStats,
} from './log_writer_api.js';
import { StreamerSupervisor } from './streamer_supervisor.js';
import type { WalPosition } from './wal_reader.js';
import { maxRecordBodyBytes } from './wal_writer.js';

export type { RecoveryReport } from '../recovery/recover_dir.js';

/** What the durable log reads of the options: its own, the log writer's and the streamer's, and recovery's. */
export type DurableLogOptions = Pick<FilledOptions, LogWriterOption | StreamerOption | 'ringBytes' | 'checkpoints'> &
  RecoverOptions;

export interface LogStats {
  writer: LogWriterStats | null;
  /** Null with checkpoints off, and while the streamer is down for a full disk (also when it goes down during the call). */
  streamer: StreamerStats | null;
  /** Checkpoint streamers started again after one found the disk full. */
  streamerRestarts: number;
}

/** The durable log's figures in db.stats(), read from shared cells (log_control.ts) without asking a worker. */
export interface DurabilityStats {
  /** The newest commitTs that is durable (written and fdatasync'd). */
  durableTs: number;
  /**
   * How far durability trails the log: the newest logged commitTs minus
   * durableTs. A commitTs advances by one per row a transaction writes, so
   * this counts row writes logged and not yet fdatasync'd (0: all durable).
   */
  lagTs: number;
  /** Promises waiting for durability: durable commits in flight and flush() calls. */
  waiting: number;
  /** Whether the disk is full ('no-reserve': the next WAL segment could not be reserved; 'stalled': the log cannot write). */
  disk: DiskStateName;
  /** The log ring: bytes waiting for the log writer, its size, and records queued on the main thread for ring space. */
  ring: { usedBytes: number; capacityBytes: number; backlogBytes: number };
  /** WAL bytes, batches and fdatasyncs written since open. */
  wal: { bytes: number; batches: number; syncs: number };
  /** Checkpoints published by the current streamer, the time they took, the newest commitTs covered, and streamed. */
  checkpoints: { count: number; totalMs: number; checkpointTs: number; streamedTs: number };
  /** Merges installed by the current streamer, and the time its merge tasks took. */
  merges: { installed: number; totalMs: number };
  /** Checkpoint file pairs in each state. */
  cfps: Record<CfpState, number>;
  /** Checkpoint streamers started again after one found the disk full (its counts above restart from 0). */
  streamerRestarts: number;
  /**
   * The WAL archive (options.archiveDir; null without one): every segment
   * below `archivedBefore` is archived or was skipped; `failing` while the
   * last try failed (segments wait on disk); `skipped`: segments let go
   * unarchived past options.maxRetainedWalBytes.
   */
  archive: { archivedBefore: number; failing: boolean; skipped: number } | null;
}

/** @internal The engine's side of the log; users see its figures through Database. */
export class DurableLog {
  private constructor(
    readonly sink: DurableSink,
    private readonly writer: ThreadHandle<LogWriterApi>,
    private readonly streamer: StreamerSupervisor | null,
    private readonly lock: Lock,
    readonly recovery: RecoveryReport,
    private readonly engine: Engine,
    private readonly root: RootBody | null,
    /** The file layer every file operation of this database goes through. */
    readonly layer: FileLayer,
    /** The log control cells (log_control.ts). */
    private readonly control: BigInt64Array,
    /** Whether the log writer archives segments (options.archiveDir). */
    private readonly archived: boolean,
    /** Named change-feed cursors (feed/cursors.ts). */
    readonly cursors: Cursors,
    /** The database's id (in its WAL segments and roots). */
    readonly databaseId: string,
  ) {}

  /** Opens the directory through `layer` (the real file system by default) with the writer and streamer `threads` start. */
  static async open(
    engine: Engine,
    options: DurableLogOptions,
    layer: FileLayer = new NodeFileLayer(options.fileMode),
    threads: EngineThreads = workerThreads,
  ): Promise<DurableLog> {
    layer.mkdir(options.dir);
    const lock = await acquireLock(layer, options.dir);
    let writer: ThreadHandle<LogWriterApi> | null = null;
    let streamer: StreamerSupervisor | null = null;
    let prepared: PreparedThreads | null = null;
    let newest: NewestRoot | null = null;
    try {
      // The workers load their bundles on other cores while the checkpoint loads and the WAL replays here.
      prepared = prepareThreads(threads, options.checkpoints);
      newest = newestRootOf(layer, options.dir);
      const { recovery, position, root } = await recoverDir(engine, options, layer, newest);
      const databaseId = root?.databaseId ?? String(position.databaseId ?? randomBytes(8).readBigUInt64LE());
      const ring = createRingBuffer(options.ringBytes, 'options.ringBytes');
      const control = createLogControl(engine.clock.now, root?.wal.seq ?? 0);
      const sink = new DurableSink(
        new RingProducer(ring),
        new BigInt64Array(control),
        maxRecordBodyBytes(options.walSegmentBytes),
        threads.sameThread !== true,
      );
      const fail = (error: TidemarkError): void => {
        engine.failure ??= error;
        sink.fail(error);
      };
      const cells = new BigInt64Array(control);
      engine.diskFull = () => Atomics.load(cells, DISK_STATE) !== DiskState.OK;
      const ready = prepared;
      writer = ready.logWriter(writerData(options, ring, control, position, root, databaseId), fail);
      if (options.checkpoints) {
        streamer = new StreamerSupervisor(
          (restart, onFailure) => ready.streamer(streamerData(options, control, root, databaseId, restart), onFailure),
          fail,
        );
      }
      return new DurableLog(
        sink,
        writer,
        streamer,
        lock,
        recovery,
        engine,
        root,
        layer,
        cells,
        options.archiveDir !== null,
        new Cursors(layer, options.dir, cells),
        databaseId,
      );
    } catch (error) {
      // The failed open returns once its threads have ended: none is left running behind the error.
      await Promise.allSettled([prepared?.discard(), writer?.terminate(), streamer?.terminate()]);
      lock.release();
      throw newest === null ? error : blameSkippedRoot(error, newest);
    }
  }

  /** Resolves once both workers answer a call: the streamer is following the log before the first commit. */
  async started(): Promise<void> {
    await Promise.all([this.writer.call((api) => api.stats()), this.streamer?.call((api) => api.stats())]);
  }

  /** Checkpoints now, covering every commit durable so far. */
  async checkpoint(): Promise<CheckpointResult | null> {
    if (this.streamer === null)
      throw new TidemarkError(ErrorCode.INVALID_OPTION, 'checkpoints are off (options.checkpoints is false)');
    const durableTs = await this.sink.whenDurable(this.engine.loggedTs);
    return this.streamer.call((api) => api.checkpoint(durableTs));
  }

  /** Merges what the policy finds (after streaming every commit durable so far), installs it, and retires the sources. */
  async merge(): Promise<MergeReport> {
    if (this.streamer === null)
      throw new TidemarkError(
        ErrorCode.INVALID_OPTION,
        'checkpoints are off (options.checkpoints is false), so there is nothing to merge',
      );
    const durableTs = await this.sink.whenDurable(this.engine.loggedTs);
    const report = await this.streamer.call((api) => api.merge(durableTs));
    if (report.error !== null) throw fromWire(report.error, 'merge failed');
    return report;
  }

  /** The streamer's view; with checkpoints off, the root the database was opened from. */
  async inventory(): Promise<StreamerInventory> {
    if (this.streamer !== null) return this.streamer.call((api) => api.inventory());
    const root = this.root;
    return {
      rootSeq: root?.seq ?? 0,
      checkpointTs: root?.checkpointTs ?? 0,
      wal: root?.wal ?? { seq: 0, offset: 0 },
      cfps: root?.cfps ?? [],
    };
  }

  /** Drains the ring, waits for the writer to sync and stop, checkpoints, releases the LOCK. */
  async close(): Promise<LogStats> {
    const stats: LogStats = { writer: null, streamer: null, streamerRestarts: this.streamer?.restarts ?? 0 };
    // Between the workers' calls close awaits things that hold nothing (a thread's end): the process stays until it is done.
    const loop = new LoopHold();
    loop.hold();
    try {
      // A writer stalled on a full disk would otherwise wait for space while close waits for it to drain the ring.
      Atomics.store(this.control, CLOSING, 1n);
      await this.sink.close();
      stats.writer = await this.writer.stop((api) => api.stop());
      stats.streamer =
        (await this.streamer?.stop((api) => api.stop(stats.writer!.durableTs)).catch(skipOnFullDisk)) ?? null;
      return stats;
    } finally {
      await this.writer.terminate();
      await this.streamer?.terminate();
      this.lock.release();
      this.sink.releaseLoop();
      loop.dispose();
    }
  }

  /** WAL bytes written and made durable since the database opened (a running count the log writer publishes at each fdatasync). */
  get walBytes(): number {
    return Number(Atomics.load(this.control, WAL_BYTES));
  }

  /** What the log writer and the streamer last published into the control cells, and the ring's fill: read without a round trip. */
  published(loggedTs: number): DurabilityStats {
    const cell = (i: number): number => Number(Atomics.load(this.control, i));
    const durableTs = cell(DURABLE_TS);
    return {
      durableTs,
      lagTs: Math.max(0, loggedTs - durableTs),
      waiting: this.sink.waiting,
      disk: diskStateName(this.control),
      ring: this.sink.ringFill(),
      wal: { bytes: cell(WAL_BYTES), batches: cell(WAL_BATCHES), syncs: cell(WAL_SYNCS) },
      checkpoints: {
        count: cell(CHECKPOINTS),
        totalMs: cell(CHECKPOINT_US) / 1000,
        checkpointTs: cell(CHECKPOINT_TS),
        streamedTs: cell(STREAMED_TS),
      },
      merges: { installed: cell(MERGES), totalMs: cell(MERGE_US) / 1000 },
      cfps: Object.fromEntries(CFP_STATE_ORDER.map((state, i) => [state, cell(CFP_COUNTS + i)])) as Record<
        CfpState,
        number
      >,
      streamerRestarts: this.streamer?.restarts ?? 0,
      archive: this.archived
        ? { archivedBefore: cell(ARCHIVE_NEXT), failing: cell(ARCHIVE_FAILING) === 1, skipped: cell(ARCHIVE_SKIPPED) }
        : null,
    };
  }

  /** The workers' figures; the streamer's are null while it waits for disk space. */
  async stats(): Promise<LogStats> {
    // Null while the streamer is down for a full disk, also when it goes down during this call.
    const streamer = this.streamer === null ? null : await this.streamer.callUnlessDown((api) => api.stats());
    return {
      writer: await this.writer.call((api) => api.stats()),
      streamer,
      streamerRestarts: this.streamer?.restarts ?? 0,
    };
  }
}

/** A final checkpoint that finds the disk full is skipped: the log is durable, and the next open replays it. */
function skipOnFullDisk(error: unknown): null {
  if (isDiskFull(error)) return null;
  throw error;
}

function writerData(
  options: DurableLogOptions,
  ring: SharedArrayBuffer,
  control: SharedArrayBuffer,
  position: WalPosition,
  root: RootBody | null,
  databaseId: string,
): LogWriterData {
  const fresh = position.seq < 0;
  return {
    ...pickOptions(options, LOG_WRITER_OPTIONS),
    ring,
    control,
    dir: options.dir,
    databaseId,
    seq: fresh ? (root?.wal.seq ?? 0) : position.seq,
    offset: fresh ? 0 : position.offset,
    zeroUntil: position.dirtyUntil,
    lastCommitTs: position.lastCommitTs,
    // checkpointWalBytes >= walSegmentBytes (options.ts): at least the segment being written and its spare.
    maxSegments: Math.ceil(options.checkpointWalBytes / options.walSegmentBytes) + 1,
  };
}

function streamerData(
  options: DurableLogOptions,
  control: SharedArrayBuffer,
  root: RootBody | null,
  databaseId: string,
  restart: boolean,
): StreamerData {
  return { ...pickOptions(options, STREAMER_OPTIONS), control, dir: options.dir, databaseId, root, restart };
}
