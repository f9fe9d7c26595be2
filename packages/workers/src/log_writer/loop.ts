/**
 * The log writer's work, as a pure module the tests can drive on one thread:
 * take every record published in the ring, append them to the WAL as one
 * batch, and fdatasync once for the group — at once when a caller waits on a
 * commit (WAITED_TS above DURABLE_TS), otherwise within `maxDelayMs` (delayed
 * durability) — then publish the newest durable commitTs.
 */
import {
  DURABLE_TS,
  FIRST_NEEDED_SEQ,
  publishDurable,
  RingConsumer,
  WAITED_TS,
  WalWriter,
  type FileLayer,
  type LogWriterData,
  type LogWriterStats,
} from '@tidemark/core/internal';

/** Records per batch at most, so a flood of small commits still syncs regularly. */
const MAX_RECORDS_PER_BATCH = 65_536;

export type StepResult = 'wrote' | 'idle' | 'closed';

export class LogWriterLoop {
  private readonly consumer: RingConsumer;
  private readonly cells: BigInt64Array;
  private readonly writer: WalWriter;
  private readonly maxDelayMs: number;
  private syncs = 0;
  /** When the oldest written-but-unsynced batch was written (-1: none). */
  private unsyncedSince = -1;

  constructor(
    layer: FileLayer,
    data: LogWriterData,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.consumer = new RingConsumer(data.ring);
    this.cells = new BigInt64Array(data.control);
    this.maxDelayMs = data.maxDelayMs;
    this.writer = new WalWriter(layer, data.dir, {
      segmentBytes: data.segmentBytes,
      databaseId: BigInt(data.databaseId),
      seq: data.seq,
      offset: data.offset,
      zeroUntil: data.zeroUntil,
      firstNeeded: () => Number(Atomics.load(this.cells, FIRST_NEEDED_SEQ)),
      maxSegments: data.maxSegments,
    });
  }

  /** Waits up to `waitMs` for records (less if unsynced ones are due), writes them, syncs when due. */
  step(waitMs: number): StepResult {
    const due = this.unsyncedSince < 0 ? waitMs : Math.max(0, Math.min(waitMs, this.unsyncedSince + this.maxDelayMs - this.now()));
    const state = this.consumer.waitForData(due);
    if (state === 'closed') {
      if (this.unsyncedSince >= 0) this.sync();
      return 'closed';
    }
    let count = 0;
    if (state === 'data') {
      const writer = this.writer;
      count = this.consumer.read((bytes, offset, length) => writer.add(bytes, offset, length), MAX_RECORDS_PER_BATCH);
      // The records are copied into the batch buffer: the ring can take more while we write and sync.
      this.consumer.release();
      writer.flush();
      if (count > 0 && this.unsyncedSince < 0) this.unsyncedSince = this.now();
    }
    if (this.unsyncedSince >= 0 && this.syncIsDue()) this.sync();
    return count > 0 ? 'wrote' : 'idle';
  }

  private syncIsDue(): boolean {
    const waited = Atomics.load(this.cells, WAITED_TS) > Atomics.load(this.cells, DURABLE_TS);
    return waited || this.now() - this.unsyncedSince >= this.maxDelayMs;
  }

  private sync(): void {
    const durableTs = this.writer.sync();
    if (BigInt(durableTs) > Atomics.load(this.cells, DURABLE_TS)) publishDurable(this.cells, durableTs);
    this.syncs++;
    this.unsyncedSince = -1;
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
    };
  }

  close(): void {
    this.writer.close();
  }
}
