/**
 * One merge: the live rows of adjacent checkpoint file pairs, read as of the
 * merge's start (valid lengths and counts as the streamer recorded them),
 * filtered by their delta files and written with their versionIds unchanged
 * into one new pair, or into two — the MERGE_TARGETs. Runs in a merge worker
 * (a piscina task) or inline in tests, over the file layer.
 *
 *   source A: delta → filter ─┐
 *   source B: delta → filter ─┼─► data blocks (1 MiB, one write each) ─► data-<target>, then its header; empty delta-<target>; fsync both and the directory
 *   ...                      ─┘
 *
 * With more than one target, rows go to the first until the next row
 * would take its data file past `targetBytes`, then to the next; the last
 * takes whatever is left (more than a data file, if the policy's estimate
 * of the live bytes was low). Each target covers a contiguous part of the
 * sources' versionId range: the first starts where the sources start, the
 * next at its own first row, and the last ends where the sources end. A
 * target that no row reaches is not made.
 *
 * Memory is bounded: one read chunk per source in turn, one block being
 * built, and the sources' tombstones as a sorted Float64Array. Nothing is
 * installed here: the streamer installs the targets at its next checkpoint,
 * carrying over the tombstones that reached the sources after they were read.
 */
import { join } from 'node:path';
import { toWire, type WireError } from '../errors.js';
import { BLOCK_HEADER_BYTES } from '../files/block.js';
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
  /** The target pairs' file ids, in the order they are filled (one, or two for three sources). */
  targets: number[];
  /** A target other than the last is closed when the next block would take its data file past this many bytes. */
  targetBytes: number;
  /** The sources, adjacent and in versionId order, as of the merge's start. */
  sources: CfpEntry[];
  /** Permissions of the target files (options.fileMode); owner only if absent. */
  fileMode?: number;
  /** Ids of tables dropped since: their rows are left out of the targets. */
  droppedTables?: number[];
}

/** One pair a merge wrote: its id, the versionIds it covers, its rows, its files' lengths. */
export interface MergedTarget {
  id: number;
  minVersion: number;
  maxVersion: number;
  rows: number;
  /** The data file's length (its valid length and its size) and its delta file's. */
  dataLength: number;
  deltaLength: number;
}

export interface MergeResult {
  /** The pairs written, in versionId order: one, or two for three sources. */
  targets: MergedTarget[];
  sources: number[];
  /** Entries the sources' data files held, those written to the targets, those their delta files deleted. */
  rowsRead: number;
  rowsWritten: number;
  rowsDropped: number;
  bytesRead: number;
  bytesWritten: number;
  durationMs: number;
}

/** A task never throws across the thread boundary (an Error loses its code there): it returns its failure. */
export type MergeOutcome = { ok: true; result: MergeResult } | ({ ok: false } & WireError);

/** Runs merge tasks (the engine's: a worker pool, merge_pool.ts). */
export interface MergeRunner {
  run(task: MergeTask): Promise<MergeOutcome>;
  close(): Promise<void>;
}

/** A target's data file being written. */
interface Writing {
  target: MergedTarget;
  path: string;
  fd: number;
}

export function mergeCfps(layer: FileLayer, task: MergeTask): MergeResult {
  const started = performance.now();
  const databaseId = BigInt(task.databaseId);
  removeTargets(layer, task);
  const out = new TargetWriter(layer, task, databaseId);
  const { block, result } = out;
  let ok = false;
  try {
    out.writing = out.begin(task.sources[0]!.minVersion);
    const dropped = new Set(task.droppedTables ?? []);
    for (const source of task.sources) {
      let ofDropped = 0;
      const scan = scanCfp(layer, task.dir, source, databaseId, {
        row: (tableId, versionId, bytes, _view, entryAt, size) => {
          if (dropped.has(tableId)) {
            ofDropped++;
            return;
          }
          let w = out.writing!;
          if (!block.fits(size)) out.flush(w);
          // As the streamer closes a data file: when this entry, in the block being built, would pass it.
          const more = result.targets.length < task.targets.length;
          if (
            more &&
            w.target.dataLength + BLOCK_HEADER_BYTES + block.used + size > task.targetBytes &&
            w.target.rows + block.count > 0
          ) {
            w.target.maxVersion = versionId - 1;
            out.end(w);
            w = out.writing = out.begin(versionId);
          }
          block.addEntry(versionId, bytes, entryAt, size);
        },
        blockEnd: () => {},
      });
      result.rowsRead += scan.rows;
      result.rowsWritten += scan.live - ofDropped;
      result.rowsDropped += scan.skipped + ofDropped;
      result.bytesRead += scan.bytes;
    }
    out.end(out.writing);
    out.writing = null;
    ok = true;
  } finally {
    out.abandon(ok);
  }
  writeEmptyDeltas(layer, task.dir, result.targets, databaseId);
  layer.fsyncDir(task.dir);
  result.bytesWritten = result.targets.reduce((sum, t) => sum + t.dataLength + t.deltaLength, 0);
  result.durationMs = performance.now() - started;
  return result;
}

/** Removes any file already at a target's names: the targets are written from scratch. */
function removeTargets(layer: FileLayer, task: MergeTask): void {
  for (const id of task.targets) {
    for (const name of [dataFileName(id), deltaFileName(id)])
      if (layer.exists(join(task.dir, name))) layer.unlink(join(task.dir, name));
  }
}

/** A pair file's header: written last for a data file, whose size is known only once its rows are. */
function pairHeader(databaseId: bigint, id: number, magic: string, size: number): Uint8Array {
  return encodeFileHeader({ magic, version: CFP_FORMAT_VERSION, id, databaseId, size, aux: 0 });
}

/**
 * The targets' data files as one merge writes them: the block being built,
 * the target it goes to, and every file made so far (removed if the merge
 * fails). It is a class rather than closures over mergeCfps's locals, so
 * that mergeCfps keeps only the scan loop and its per-row callback.
 */
class TargetWriter {
  readonly block = new DataBlockBuilder();
  readonly result: MergeResult;
  writing: Writing | null = null;
  private readonly made: string[] = [];
  /** The last source: the last target ends where it ends. */
  private readonly last: CfpEntry;

  constructor(
    private readonly layer: FileLayer,
    private readonly task: MergeTask,
    private readonly databaseId: bigint,
  ) {
    this.last = task.sources[task.sources.length - 1]!;
    this.result = {
      targets: [],
      sources: task.sources.map((s) => s.id),
      rowsRead: 0,
      rowsWritten: 0,
      rowsDropped: 0,
      bytesRead: 0,
      bytesWritten: 0,
      durationMs: 0,
    };
  }

  /** Starts the next target at `minVersion`. */
  begin(minVersion: number): Writing {
    const id = this.task.targets[this.result.targets.length]!;
    const target: MergedTarget = {
      id,
      minVersion,
      maxVersion: this.last.maxVersion!,
      rows: 0,
      dataLength: FILE_HEADER_BYTES,
      deltaLength: FILE_HEADER_BYTES,
    };
    const path = join(this.task.dir, dataFileName(id));
    this.made.push(path);
    const fd = this.layer.open(path, true);
    this.result.targets.push(target);
    return { target, path, fd };
  }

  flush(w: Writing): void {
    const block = this.block;
    if (block.count === 0) return;
    const size = block.seal();
    writeAll(this.layer, w.fd, w.path, block.bytes, 0, size, w.target.dataLength);
    w.target.dataLength += size;
    w.target.rows += block.count;
    block.reset();
  }

  /** Flushes the target's last block, writes its header last (its size is the file's, known only now), syncs and closes it. */
  end(w: Writing): void {
    this.flush(w);
    const header = pairHeader(this.databaseId, w.target.id, DATA_MAGIC, w.target.dataLength);
    writeAll(this.layer, w.fd, w.path, header, 0, FILE_HEADER_BYTES, 0);
    this.layer.fdatasync(w.fd);
    const fd = w.fd;
    w.fd = -1; // closed once, even if close throws
    this.layer.close(fd);
  }

  /** Closes the target still open, if any; unless the merge is `ok`, removes every file it made. */
  abandon(ok: boolean): void {
    const writing = this.writing;
    if (writing !== null && writing.fd >= 0) this.layer.close(writing.fd);
    if (!ok) for (const path of this.made) if (this.layer.exists(path)) this.layer.unlink(path);
  }
}

/** Writes each target's delta file: a header and no tombstones, synced. */
function writeEmptyDeltas(layer: FileLayer, dir: string, targets: MergedTarget[], databaseId: bigint): void {
  for (const t of targets) {
    const deltaPath = join(dir, deltaFileName(t.id));
    const deltaFd = layer.open(deltaPath, true);
    try {
      writeAll(layer, deltaFd, deltaPath, pairHeader(databaseId, t.id, DELTA_MAGIC, 0), 0, FILE_HEADER_BYTES, 0);
      layer.fdatasync(deltaFd);
    } finally {
      layer.close(deltaFd);
    }
  }
}

/** Runs a merge and turns a failure into an outcome with a stable code. */
export function mergeOutcome(layer: FileLayer, task: MergeTask): MergeOutcome {
  try {
    return { ok: true, result: mergeCfps(layer, task) };
  } catch (error) {
    return { ok: false, ...toWire(error) };
  }
}
