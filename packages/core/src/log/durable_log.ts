/**
 * Opening a database directory: take the LOCK, replay the WAL into the
 * tables, then start the log writer worker where the log ends and connect the
 * durable sink to it. Closing drains the ring, stops the writer (which syncs)
 * and releases the LOCK. If any step of opening fails, everything started so
 * far is undone: no half-open database, no leaked worker, no held lock.
 */
import { randomBytes } from 'node:crypto';
import { NodeFileLayer, type FileLayer } from '../files/file_layer.js';
import { acquireLock, type Lock } from '../files/lock.js';
import { createRingBuffer, RingProducer } from '../ring/ring.js';
import type { Engine } from '../txn/engine.js';
import { DurableSink } from './durable_sink.js';
import { createLogControl } from './log_control.js';
import type { LogWriterStats } from './log_writer_api.js';
import { LogWriterClient } from './log_writer_client.js';
import { visitRecord } from './record.js';
import { Replayer } from './replay.js';
import { replayWal, type WalPosition } from './wal_reader.js';

export interface RecoveryReport {
  /** Log records replayed, and the bytes of their batches. */
  records: number;
  bytes: number;
  segments: number;
  /** Where a torn tail (a crash in the middle of a write) was cut, if one was. */
  tornTail: { file: string; offset: number } | null;
  durationMs: number;
}

export interface DurableLogOptions {
  dir: string;
  walSegmentBytes: number;
  ringBytes: number;
  maxDelayMs: number;
}

export class DurableLog {
  private constructor(
    readonly sink: DurableSink,
    private readonly writer: LogWriterClient,
    private readonly lock: Lock,
    readonly recovery: RecoveryReport,
  ) {}

  static open(engine: Engine, options: DurableLogOptions, layer: FileLayer = new NodeFileLayer()): DurableLog {
    layer.mkdir(options.dir);
    const lock = acquireLock(layer, options.dir);
    let writer: LogWriterClient | null = null;
    try {
      const started = performance.now();
      const replayer = new Replayer(engine);
      const position = replayWal(layer, options.dir, (bytes, offset, length, where) => {
        replayer.where = where;
        visitRecord(bytes, offset, length, replayer, where);
      });
      engine.loggedTs = engine.clock.now;
      const recovery: RecoveryReport = {
        records: replayer.records,
        bytes: position.bytesReplayed,
        segments: position.segments,
        tornTail: position.tornTail,
        durationMs: performance.now() - started,
      };
      const ring = createRingBuffer(options.ringBytes, 'options.ringBytes');
      const control = createLogControl(engine.clock.now);
      const sink = new DurableSink(new RingProducer(ring), new BigInt64Array(control));
      writer = new LogWriterClient(writerData(options, ring, control, position), (error) => {
        engine.failure ??= error;
        sink.fail(error);
      });
      return new DurableLog(sink, writer, lock, recovery);
    } catch (error) {
      void writer?.stop().catch(() => {});
      lock.release();
      throw error;
    }
  }

  /** Drains the ring, waits for the writer to sync and stop, releases the LOCK. */
  async close(): Promise<LogWriterStats | null> {
    try {
      await this.sink.close();
      return await this.writer.stop();
    } finally {
      this.lock.release();
    }
  }

  stats(): Promise<LogWriterStats> {
    return this.writer.stats();
  }
}

function writerData(options: DurableLogOptions, ring: SharedArrayBuffer, control: SharedArrayBuffer, position: WalPosition) {
  const fresh = position.seq < 0;
  return {
    ring,
    control,
    dir: options.dir,
    segmentBytes: options.walSegmentBytes,
    databaseId: String(position.databaseId ?? randomBytes(8).readBigUInt64LE()),
    seq: fresh ? 0 : position.seq,
    offset: fresh ? 0 : position.offset,
    zeroUntil: position.dirtyUntil,
    maxDelayMs: options.maxDelayMs,
  };
}
