/**
 * The log writer's work, as a pure module the tests can drive on one thread:
 * take every record published in the ring, append them to the WAL as one
 * batch, fdatasync once (group commit), publish the newest durable commitTs
 * and release the ring space.
 */
import {
  DURABLE_TS,
  publishDurable,
  RingConsumer,
  WalWriter,
  WRITER_FAILED,
  WRITER_STATE,
  WRITER_STOPPED,
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
  private syncs = 0;

  constructor(layer: FileLayer, data: LogWriterData) {
    this.consumer = new RingConsumer(data.ring);
    this.cells = new BigInt64Array(data.control);
    this.writer = new WalWriter(layer, data.dir, {
      segmentBytes: data.segmentBytes,
      databaseId: BigInt(data.databaseId),
      seq: data.seq,
      offset: data.offset,
      zeroUntil: data.zeroUntil,
    });
  }

  /** Waits up to `waitMs` for records, then writes and syncs what it found. */
  step(waitMs: number): StepResult {
    const state = this.consumer.waitForData(waitMs);
    if (state === 'closed') return 'closed';
    if (state === 'timeout') return 'idle';
    const writer = this.writer;
    const count = this.consumer.read((bytes, offset, length) => writer.add(bytes, offset, length), MAX_RECORDS_PER_BATCH);
    // The records are copied into the batch buffer: the ring can take more while we sync.
    this.consumer.release();
    if (count === 0) return 'idle';
    const durableTs = writer.sync();
    this.syncs++;
    publishDurable(this.cells, durableTs);
    return 'wrote';
  }

  stats(): LogWriterStats {
    return {
      batches: this.writer.batchesWritten,
      bytes: this.writer.bytesWritten,
      syncs: this.syncs,
      segmentsCreated: this.writer.segmentsCreated,
      durableTs: Number(Atomics.load(this.cells, DURABLE_TS)),
    };
  }

  fail(): void {
    Atomics.store(this.cells, WRITER_STATE, WRITER_FAILED);
  }

  close(): void {
    this.writer.close();
    Atomics.store(this.cells, WRITER_STATE, WRITER_STOPPED);
  }
}
