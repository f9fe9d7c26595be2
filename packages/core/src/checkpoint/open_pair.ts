/**
 * A pair as the checkpoint writer holds it: its root entry, its open file
 * descriptors, whether either file was written since the last checkpoint,
 * and the tombstones not yet written to its delta file. Invariants:
 *
 * - `entry.dataLength` and `entry.deltaLength` are the bytes written to each
 *   file; a checkpoint syncs a file whose dirty flag is set before a root
 *   names those lengths.
 * - A descriptor is -1 when the file is not open; whoever opens one closes it.
 */
import { BLOCK_HEADER_BYTES, sealBlock } from '../files/block.js';
import { type FileLayer, writeAll } from '../files/file_layer.js';
import { DELTA_BLOCK_MAGIC, DELTA_ENTRY_BYTES, deltaFileName } from './cfp_format.js';
import type { CheckpointState } from './checkpoint_state.js';
import type { CfpEntry } from './root_format.js';

export interface OpenPair {
  entry: CfpEntry;
  /** A source of the merge in progress: its new tombstones are also carried to the targets. */
  merging: boolean;
  dataFd: number;
  deltaFd: number;
  /** Written since the last checkpoint, not yet fsynced. */
  dataDirty: boolean;
  deltaDirty: boolean;
  /** VersionIds deleted, not written to the delta file yet. */
  pending: number[];
}

/** A pair over `entry` with no file open and nothing pending. */
export function openPair(entry: CfpEntry): OpenPair {
  return { entry, merging: false, dataFd: -1, deltaFd: -1, dataDirty: false, deltaDirty: false, pending: [] };
}

/** Writes the pair's pending tombstones as one delta block (no fsync); returns the bytes written. */
export function writeDeltaBlock(state: CheckpointState, pair: OpenPair): number {
  const ids = pair.pending;
  if (ids.length === 0) return 0;
  const bytes = new Uint8Array(BLOCK_HEADER_BYTES + ids.length * DELTA_ENTRY_BYTES);
  const view = new DataView(bytes.buffer);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    view.setFloat64(BLOCK_HEADER_BYTES + i * DELTA_ENTRY_BYTES, id, true);
    if (id < min) min = id;
    if (id > max) max = id;
  }
  const size = sealBlock(bytes, 0, DELTA_BLOCK_MAGIC, ids.length * DELTA_ENTRY_BYTES, ids.length, min, max);
  const name = deltaFileName(pair.entry.id);
  if (pair.deltaFd < 0) pair.deltaFd = state.layer.open(state.path(name), false);
  writeAll(state.layer, pair.deltaFd, name, bytes, 0, size, pair.entry.deltaLength);
  pair.entry.deltaLength += size;
  pair.deltaDirty = true;
  pair.pending = [];
  return size;
}

/** Fsyncs the pair's files written since the last checkpoint; returns how many. */
export function syncPair(layer: FileLayer, pair: OpenPair): number {
  let synced = 0;
  if (pair.dataDirty) {
    layer.fdatasync(pair.dataFd);
    pair.dataDirty = false;
    synced++;
  }
  if (pair.deltaDirty) {
    layer.fdatasync(pair.deltaFd);
    pair.deltaDirty = false;
    synced++;
  }
  return synced;
}

/** Closes whichever of the pair's files are open. */
export function closePairFiles(layer: FileLayer, pair: OpenPair): void {
  if (pair.dataFd >= 0) layer.close(pair.dataFd);
  if (pair.deltaFd >= 0) layer.close(pair.deltaFd);
  pair.dataFd = pair.deltaFd = -1;
}
