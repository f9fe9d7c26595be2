/**
 * The inventory view (`db.checkpointFiles()`): one row per file of the
 * database directory, like the system views of the engines this follows —
 * data and delta files from the streamer's current state, root files and WAL
 * segments from the directory. The streamer goes on working meanwhile: a
 * file it removes between the listing and its stat is left out (a pair's
 * file counts 0 bytes).
 */
import { join } from 'node:path';
import { isNotFound, type FileLayer } from '../files/file_layer.js';
import { segmentSeq } from '../log/wal_format.js';
import { dataFileName, deltaFileName, type CfpState } from './cfp_format.js';
import { rootSeq, type CfpEntry } from './root_format.js';
import type { StreamerInventory } from './streamer_api.js';

export interface CheckpointFile {
  /** The file's name in the directory. */
  file: string;
  /** The checkpoint file pair it belongs to (data and delta files); null for roots and WAL segments. */
  pairId: number | null;
  /** `free`: a WAL segment no checkpoint needs any more, kept for recycling. */
  kind: 'data' | 'delta' | 'root' | 'wal' | 'free';
  /** A CFP's state; `CURRENT`/`PREVIOUS` for roots; `IN_USE`/`FREE` for WAL segments. */
  state: CfpState | 'CURRENT' | 'PREVIOUS' | 'IN_USE' | 'FREE';
  /** Commit timestamps of the first and last commit with rows in the pair (0 if none; null for other files). */
  firstCommitTs: number | null;
  lastCommitTs: number | null;
  /** Bytes on disk, and bytes in use (written so far; null where not tracked). */
  sizeBytes: number;
  usedBytes: number | null;
  rows: number | null;
  tombstones: number | null;
  /** The seq of the root the pair first belonged to (0: none yet); a root's own seq. */
  checkpoint: number | null;
}

/** A file's size in bytes, or null if it is gone (the streamer may remove it between the listing and the stat). */
type SizeOf = (name: string) => number | null;

export function inventoryRows(layer: FileLayer, dir: string, inventory: StreamerInventory): CheckpointFile[] {
  const rows: CheckpointFile[] = [];
  const sizeOf: SizeOf = (name) => {
    try {
      return layer.size(join(dir, name));
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  };
  for (const c of inventory.cfps) pushPairRows(rows, c, sizeOf);
  const names = layer.list(dir).sort();
  pushRootRows(rows, names, inventory.rootSeq, sizeOf);
  pushSegmentRows(rows, names, inventory.wal.seq, sizeOf);
  return rows;
}

/** The rows of one checkpoint file pair: its data file, then its delta file. */
function pushPairRows(rows: CheckpointFile[], c: CfpEntry, sizeOf: SizeOf): void {
  const common = {
    pairId: c.id,
    state: c.state,
    firstCommitTs: c.firstCommitTs,
    lastCommitTs: c.lastCommitTs,
    checkpoint: c.sinceCheckpoint,
  };
  const data = dataFileName(c.id);
  const delta = deltaFileName(c.id);
  rows.push({
    ...common,
    file: data,
    kind: 'data',
    sizeBytes: sizeOf(data) ?? 0,
    usedBytes: c.dataLength,
    rows: c.rows,
    tombstones: null,
  });
  rows.push({
    ...common,
    file: delta,
    kind: 'delta',
    sizeBytes: sizeOf(delta) ?? 0,
    usedBytes: c.deltaLength,
    rows: null,
    tombstones: c.tombstones,
  });
}

/** The rows of the root files among `names`; `currentSeq` is the current root's. */
function pushRootRows(rows: CheckpointFile[], names: string[], currentSeq: number, sizeOf: SizeOf): void {
  for (const name of names) {
    const seq = rootSeq(name);
    if (seq < 0) continue;
    const size = sizeOf(name);
    if (size === null) continue; // an older root the streamer just removed
    const state = seq === currentSeq ? 'CURRENT' : 'PREVIOUS';
    rows.push({
      file: name,
      pairId: null,
      kind: 'root',
      state,
      firstCommitTs: null,
      lastCommitTs: null,
      sizeBytes: size,
      usedBytes: size,
      rows: null,
      tombstones: null,
      checkpoint: seq,
    });
  }
}

/** The rows of the WAL segments among `names`: those below `walSeq` are free, kept for recycling. */
function pushSegmentRows(rows: CheckpointFile[], names: string[], walSeq: number, sizeOf: SizeOf): void {
  for (const name of names) {
    const seq = segmentSeq(name);
    if (seq < 0) continue;
    const free = seq < walSeq;
    const size = sizeOf(name);
    if (size === null) continue; // a segment the log writer just removed
    rows.push({
      file: name,
      pairId: null,
      kind: free ? 'free' : 'wal',
      state: free ? 'FREE' : 'IN_USE',
      firstCommitTs: null,
      lastCommitTs: null,
      sizeBytes: size,
      usedBytes: null,
      rows: null,
      tombstones: null,
      checkpoint: null,
    });
  }
}
