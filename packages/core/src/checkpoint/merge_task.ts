/**
 * One merge: the live rows of adjacent checkpoint file pairs, read as of the
 * merge's start (valid lengths and counts as the streamer recorded them),
 * filtered by their delta files and written with their versionIds unchanged
 * into a new pair — the MERGE_TARGET. Runs in a merge worker (a piscina
 * task) or inline in tests, over the file layer.
 *
 *   source A: delta → filter ─┐
 *   source B: delta → filter ─┼─► data blocks (1 MiB, one write each) ─► data-<target>, then its header; empty delta-<target>; fsync both and the directory
 *   ...                      ─┘
 *
 * Memory is bounded: one read chunk per source in turn, one block being
 * built, and the sources' tombstones as a sorted Float64Array. Nothing is
 * installed here: the streamer installs the target at its next checkpoint,
 * carrying over the tombstones that reached the sources after they were read.
 */
import { join } from 'node:path';
import { encodeFileHeader, FILE_HEADER_BYTES } from '../files/file_header.js';
import { writeAll, type FileLayer } from '../files/file_layer.js';
import { CFP_FORMAT_VERSION, DATA_MAGIC, dataFileName, DELTA_MAGIC, deltaFileName } from './cfp_format.js';
import { scanCfp } from './cfp_reader.js';
import { DataBlockBuilder } from './data_block.js';
import type { CfpEntry } from './root_format.js';

export interface MergeTask {
  dir: string;
  /** As a decimal string: bigint does not cross every thread boundary. */
  databaseId: string;
  /** The target pair's file id. */
  target: number;
  /** The sources, adjacent and in versionId order, as of the merge's start. */
  sources: CfpEntry[];
}

export interface MergeResult {
  target: number;
  sources: number[];
  /** Entries the sources' data files held, those written to the target, those their delta files deleted. */
  rowsRead: number;
  rowsWritten: number;
  rowsDropped: number;
  /** The target data file's length (its valid length and its size) and its delta file's. */
  dataLength: number;
  deltaLength: number;
  bytesRead: number;
  bytesWritten: number;
  durationMs: number;
}

/** A task never throws across the thread boundary (an Error loses its code there): it returns its failure. */
export type MergeOutcome = { ok: true; result: MergeResult } | { ok: false; code: string; message: string };

/** Runs merge tasks (the engine's: a worker pool, merge_pool.ts). */
export interface MergeRunner {
  run(task: MergeTask): Promise<MergeOutcome>;
  close(): Promise<void>;
}

export function mergeCfps(layer: FileLayer, task: MergeTask): MergeResult {
  const started = performance.now();
  const databaseId = BigInt(task.databaseId);
  const dataPath = join(task.dir, dataFileName(task.target));
  const deltaPath = join(task.dir, deltaFileName(task.target));
  for (const path of [dataPath, deltaPath]) if (layer.exists(path)) layer.unlink(path);
  const block = new DataBlockBuilder();
  const result: MergeResult = {
    target: task.target,
    sources: task.sources.map((s) => s.id),
    rowsRead: 0,
    rowsWritten: 0,
    rowsDropped: 0,
    dataLength: FILE_HEADER_BYTES,
    deltaLength: FILE_HEADER_BYTES,
    bytesRead: 0,
    bytesWritten: 0,
    durationMs: 0,
  };
  const header = (magic: string, size: number): Uint8Array =>
    encodeFileHeader({ magic, version: CFP_FORMAT_VERSION, id: task.target, databaseId, size, aux: 0 });
  const fd = layer.open(dataPath, true);
  let ok = false;
  try {
    const flush = (): void => {
      if (block.count === 0) return;
      const size = block.seal();
      writeAll(layer, fd, dataPath, block.bytes, 0, size, result.dataLength);
      result.dataLength += size;
      block.reset();
    };
    for (const source of task.sources) {
      const scan = scanCfp(layer, task.dir, source, databaseId, {
        row: (_tableId, versionId, bytes, _view, entryAt, size) => {
          if (!block.fits(size)) flush();
          block.addEntry(versionId, bytes, entryAt, size);
        },
        blockEnd: () => {},
      });
      result.rowsRead += scan.rows;
      result.rowsWritten += scan.live;
      result.rowsDropped += scan.skipped;
      result.bytesRead += scan.bytes;
    }
    flush();
    // The header last: its size is the file's, known only now.
    writeAll(layer, fd, dataPath, header(DATA_MAGIC, result.dataLength), 0, FILE_HEADER_BYTES, 0);
    layer.fdatasync(fd);
    ok = true;
  } finally {
    layer.close(fd);
    if (!ok && layer.exists(dataPath)) layer.unlink(dataPath);
  }
  const deltaFd = layer.open(deltaPath, true);
  try {
    writeAll(layer, deltaFd, deltaPath, header(DELTA_MAGIC, 0), 0, FILE_HEADER_BYTES, 0);
    layer.fdatasync(deltaFd);
  } finally {
    layer.close(deltaFd);
  }
  layer.fsyncDir(task.dir);
  result.bytesWritten = result.dataLength + result.deltaLength;
  result.durationMs = performance.now() - started;
  return result;
}

/** Runs a merge and turns a failure into an outcome with a stable code. */
export function mergeOutcome(layer: FileLayer, task: MergeTask): MergeOutcome {
  try {
    return { ok: true, result: mergeCfps(layer, task) };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return { ok: false, code: typeof code === 'string' && code.startsWith('TM_') ? code : 'TM_IO_ERROR', message: (error as Error).message };
  }
}
