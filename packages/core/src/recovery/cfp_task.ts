/**
 * One recovery task: load one checkpoint file pair. Reads the delta file,
 * then streams the data file's live rows — each laid out as an arena version,
 * with its primary-key hash — to a BatchSink. Runs in a recovery worker (the
 * sink is a ring to the main thread) or on the main thread itself (the sink
 * links batches directly; `recoveryWorkers: 0`).
 */
import { scanCfp, corrupt, type CfpScan } from '../checkpoint/cfp_reader.js';
import { DATA_ENTRY_HEADER_BYTES, dataFileName } from '../checkpoint/cfp_format.js';
import type { CfpEntry } from '../checkpoint/root_format.js';
import type { FileLayer } from '../files/file_layer.js';
import { hashBytes, makeRowCodec, type RowCodec } from '../schema/codec.js';
import { definitionFromJson } from '../schema/definition_json.js';
import { defineTable } from '../schema/schema.js';
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
  const started = performance.now();
  const keyLengths = task.catalog.map((def) => makeRowCodec(defineTable(definitionFromJson(def))).keyLength);
  const path = join(task.dir, dataFileName(task.cfp.id));
  const builder = new BatchBuilder(sink);
  const scan = scanCfp(layer, task.dir, task.cfp, BigInt(task.databaseId), {
    row: (tableId, versionId, bytes, view, entryAt, size, dataOffset) => {
      const keyLength: RowCodec['keyLength'] | undefined = keyLengths[tableId];
      if (keyLength === undefined) throw corrupt(path, `a row (version ${versionId}) names table ${tableId}, which the root's catalog does not hold`, dataOffset);
      const at = entryAt + DATA_ENTRY_HEADER_BYTES;
      builder.add(tableId, hashBytes(bytes, at, keyLength(bytes, view, at)), bytes, entryAt, size, dataOffset);
    },
    blockEnd: () => builder.endOfSource(),
  });
  builder.flush();
  return { ...scan, cfp: task.cfp.id, batches: builder.batches, durationMs: performance.now() - started };
}
