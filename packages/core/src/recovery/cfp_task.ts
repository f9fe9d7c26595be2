/**
 * One recovery task: load one checkpoint file pair. Reads the delta file,
 * then streams the data file's live rows — each laid out as an arena version,
 * with its primary-key hash — to a BatchSink. Runs in a recovery worker (the
 * sink is a ring to the main thread) or on the main thread itself (the sink
 * links batches directly; `recoveryWorkers: 0`).
 */
import { corrupt, DataScan, readDelta, type CfpScan, type ReadTime } from '../checkpoint/cfp_reader.js';
import { DATA_ENTRY_HEADER_BYTES, dataFileName } from '../checkpoint/cfp_format.js';
import type { CfpEntry } from '../checkpoint/root_format.js';
import type { FileLayer } from '../files/file_layer.js';
import { hashBytes, makeRowCodec, type RowCodec } from '../schema/codec.js';
import { schemaFromJson } from '../schema/stored.js';
import { BatchBuilder, type BatchSink } from './batch.js';
import { join } from 'node:path';

export interface CfpTask {
  dir: string;
  /** As a decimal string: bigint does not cross every thread boundary. */
  databaseId: string;
  cfp: CfpEntry;
  /** The root's table definitions, by table id: a row's key is found with its table's codec. */
  catalog: unknown[];
}

export interface CfpTaskResult extends CfpScan {
  cfp: number;
  batches: number;
  durationMs: number;
}

export function recoverCfp(layer: FileLayer, task: CfpTask, sink: BatchSink): CfpTaskResult {
  const recovery = new CfpRecovery(layer, task, sink);
  try {
    while (recovery.step());
  } finally {
    recovery.close();
  }
  return recovery.result();
}

/**
 * The task a data block at a time (checkpoint/cfp_reader.ts DataScan): the
 * main thread loads a pair itself this way between linking the batches of
 * the pool's tasks. The delta file is read when it is made. step() until it
 * returns false, then result(); close() in any case.
 */
export class CfpRecovery {
  private readonly builder: BatchBuilder;
  private readonly data: DataScan;
  private readonly deltaReads: ReadTime = { readMs: 0 };
  /** Rows of dropped tables, read but not loaded. */
  private ofDropped = 0;
  /** Time spent in the constructor and in step(): the task's own time, however it is spread out. */
  private durationMs: number;

  constructor(
    layer: FileLayer,
    private readonly task: CfpTask,
    sink: BatchSink,
  ) {
    const started = performance.now();
    // A dropped table (null in the catalog) has no codec: its rows are not loaded.
    const keyLengths = task.catalog.map((def) => {
      const schema = schemaFromJson(def);
      return schema === null ? null : makeRowCodec(schema).keyLength;
    });
    const path = join(task.dir, dataFileName(task.cfp.id));
    const databaseId = BigInt(task.databaseId);
    const builder = new BatchBuilder(sink);
    this.builder = builder;
    const deleted = readDelta(layer, task.dir, task.cfp, databaseId, this.deltaReads);
    this.data = new DataScan(layer, task.dir, task.cfp, databaseId, deleted, {
      row: (tableId, versionId, bytes, view, entryAt, size, dataOffset) => {
        const keyLength: RowCodec['keyLength'] | null | undefined = keyLengths[tableId];
        if (keyLength === null) {
          this.ofDropped++;
          return;
        }
        if (keyLength === undefined)
          throw corrupt(
            path,
            `a row (version ${versionId}) names table ${tableId}, which the root's catalog does not hold`,
            dataOffset,
          );
        const at = entryAt + DATA_ENTRY_HEADER_BYTES;
        builder.add(tableId, hashBytes(bytes, at, keyLength(bytes, view, at)), bytes, entryAt, size, dataOffset);
      },
      blockEnd: () => builder.endOfSource(),
    });
    this.durationMs = performance.now() - started;
  }

  /** Loads the next data block; false once the pair is done (its last batch handed on). */
  step(): boolean {
    const started = performance.now();
    try {
      if (this.data.step()) return true;
      this.builder.flush();
      return false;
    } finally {
      this.durationMs += performance.now() - started;
    }
  }

  close(): void {
    this.data.close();
  }

  result(): CfpTaskResult {
    const scan = this.data.scan;
    return {
      ...scan,
      live: scan.live - this.ofDropped,
      skipped: scan.skipped + this.ofDropped,
      readMs: scan.readMs + this.deltaReads.readMs,
      cfp: this.task.cfp.id,
      batches: this.builder.batches,
      durationMs: this.durationMs,
    };
  }
}
