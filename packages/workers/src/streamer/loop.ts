/**
 * The checkpoint streamer's work, as a pure module the tests can drive on
 * one thread: follow the WAL's durable batches (WalTail), feed every record
 * to the CheckpointWriter (inserts to the data file, deletes to the delta
 * file of the pair holding the version), and checkpoint when a trigger
 * fires — WAL bytes since the last checkpoint, elapsed time, a request —
 * then tell the log writer which WAL segments are free. PRECREATED files
 * are made while idle, so opening a new pair does not wait on allocation.
 */
import {
  CheckpointWriter,
  DURABLE_TS,
  FIRST_NEEDED_SEQ,
  visitRecord,
  WalTail,
  type CheckpointResult,
  type FileLayer,
  type StreamerData,
  type StreamerInventory,
  type StreamerStats,
} from '@tidemark/core/internal';

/** WAL bytes streamed per step at most, so triggers and control calls are seen regularly. */
const MAX_STEP_BYTES = 16 << 20;

interface Request {
  uptoTs: number;
  resolve: (result: CheckpointResult | null) => void;
  reject: (error: Error) => void;
}

export type StreamerStep = 'streamed' | 'idle';

export class StreamerLoop {
  private readonly cells: BigInt64Array;
  private readonly tail: WalTail;
  private readonly writer: CheckpointWriter;
  private readonly data: StreamerData;
  private walBytesSince = 0;
  private lastCheckpointAt: number;
  private requests: Request[] = [];
  private readonly visit: (bytes: Uint8Array, offset: number, length: number, where: () => string) => void;
  private checkpointMs = 0;
  private streamMs = 0;
  private lastCheckpoint: CheckpointResult | null = null;
  private wal: { seq: number; offset: number };

  constructor(
    layer: FileLayer,
    data: StreamerData,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.data = data;
    this.cells = new BigInt64Array(data.control);
    const databaseId = BigInt(data.databaseId);
    const root = data.root;
    this.wal = root?.wal ?? { seq: 0, offset: 64 };
    this.tail = new WalTail(layer, data.dir, databaseId, this.wal, root?.checkpointTs ?? 0);
    this.writer = new CheckpointWriter(layer, { dir: data.dir, databaseId, dataFileSizeBytes: data.dataFileSizeBytes, precreatedFiles: data.precreatedFiles }, root);
    this.lastCheckpointAt = now();
    const writer = this.writer;
    this.visit = (bytes, offset, length, where) => {
      visitRecord(bytes, offset, length, writer, where);
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
    if (this.checkpointDue()) this.checkpoint();
    if (read === 0) this.writer.topUpPool();
    return read > 0 ? 'streamed' : 'idle';
  }

  /** Resolves after a checkpoint that covers `uptoTs` (a commitTs already durable). */
  requestCheckpoint(uptoTs: number): Promise<CheckpointResult | null> {
    return new Promise((resolve, reject) => this.requests.push({ uptoTs, resolve, reject }));
  }

  /** Streams everything durable up to `finalTs`, checkpoints, and closes the files. */
  finish(finalTs: number): void {
    while (this.tail.lastTs < finalTs && this.stream(Math.max(finalTs, Number(Atomics.load(this.cells, DURABLE_TS)))) > 0);
    this.checkpoint();
    this.close();
  }

  /** Rejects every waiting checkpoint request (the streamer failed). */
  failAll(error: Error): void {
    for (const r of this.requests) r.reject(error);
    this.requests = [];
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
      checkpointMs: this.checkpointMs,
      streamMs: this.streamMs,
      lastCheckpoint: this.lastCheckpoint,
    };
  }

  inventory(): StreamerInventory {
    return { rootSeq: this.writer.seq, checkpointTs: this.writer.checkpointTs, wal: { ...this.wal }, cfps: this.writer.entries() };
  }

  close(): void {
    this.tail.close();
    this.writer.close();
  }

  private stream(durable: number): number {
    if (durable <= this.tail.lastTs) return 0;
    const started = this.now();
    // Stop at the WAL-bytes trigger, so a checkpoint comes as soon as it is due.
    const room = Math.max(1, Math.min(MAX_STEP_BYTES, this.data.checkpointWalBytes - this.walBytesSince));
    const read = this.tail.poll(durable, this.visit, room);
    if (read > 0) this.writer.flush();
    this.walBytesSince += read;
    this.streamMs += this.now() - started;
    return read;
  }

  /**
   * Due when the WAL the newest checkpoint needs, counted in whole segments
   * from the checkpoint's segment to the one being streamed plus one (the
   * writer may be that far ahead), reaches `checkpointWalBytes` — so with the
   * writer at most two segments ahead the WAL on disk stays within the
   * trigger plus one segment — or that many bytes were streamed since it;
   * after `checkpointIntervalMs` with something new; or when a request waits.
   */
  private checkpointDue(): boolean {
    const trigger = this.data.checkpointWalBytes;
    if (this.walBytesSince >= trigger) return true;
    // One segment early: the log writer may be a segment ahead of the streamer while the checkpoint is made.
    const spanned = this.tail.seq - this.wal.seq + 1;
    if (trigger >= this.data.walSegmentBytes && spanned > 1 && (spanned + 1) * this.data.walSegmentBytes >= trigger) return true;
    const interval = this.data.checkpointIntervalMs;
    if (interval > 0 && this.now() - this.lastCheckpointAt >= interval && this.writer.lastTs > this.writer.checkpointTs) return true;
    return this.requests.some((r) => r.uptoTs <= this.tail.lastTs);
  }

  private checkpoint(): void {
    const started = this.now();
    const wal = { seq: this.tail.seq, offset: this.tail.offset };
    const result = this.writer.checkpoint(wal, this.tail.bytesRead);
    this.walBytesSince = 0;
    this.lastCheckpointAt = this.now();
    if (result !== null) {
      this.wal = wal;
      this.lastCheckpoint = result;
      this.checkpointMs += this.now() - started;
      if (BigInt(wal.seq) > Atomics.load(this.cells, FIRST_NEEDED_SEQ)) Atomics.store(this.cells, FIRST_NEEDED_SEQ, BigInt(wal.seq));
    }
    const done = this.requests.filter((r) => r.uptoTs <= this.tail.lastTs);
    this.requests = this.requests.filter((r) => r.uptoTs > this.tail.lastTs);
    for (const r of done) r.resolve(result ?? this.lastCheckpoint);
  }
}
