/**
 * The pairs that hold rows, and the writing of them: inserts go into the data
 * block being built for the pair under construction, deletes into the
 * pending tombstones of the pair whose versionId range holds them. Blocks are
 * written with one positional write each (`flush`), never one syscall per
 * row. Invariants:
 *
 * - `pairs` are UNDER_CONSTRUCTION or ACTIVE, ordered by minVersion, their
 *   versionId ranges contiguous and disjoint; only the last may be
 *   UNDER_CONSTRUCTION, and it is then `current`, its data file open.
 * - The data block holds entries of `current` only: it is written before
 *   `current` closes.
 * - A data file closes (ACTIVE) when the next entry would pass its capacity,
 *   unless it holds nothing yet (a row larger than a whole file still goes
 *   somewhere); the next pair is taken from the pool.
 */
import { assert } from '../assert.js';
import { ErrorCode, TidemarkError } from '../errors.js';
import { BLOCK_HEADER_BYTES } from '../files/block.js';
import { writeAll } from '../files/file_layer.js';
import { CfpState, dataEntryBytes, dataFileName } from './cfp_format.js';
import type { CheckpointState } from './checkpoint_state.js';
import { DataBlockBuilder } from './data_block.js';
import { type OpenPair, syncPair, writeDeltaBlock } from './open_pair.js';
import type { PairPool } from './pair_pool.js';
import { transition } from './pair_state.js';

export class PairWriter {
  /** Pairs holding rows (UNDER_CONSTRUCTION and ACTIVE), by minVersion. */
  readonly pairs: OpenPair[] = [];
  /** The pair being written (UNDER_CONSTRUCTION), if any. */
  current: OpenPair | null = null;
  readonly block = new DataBlockBuilder();
  private readonly withPending = new Set<OpenPair>();
  /** Data files closed so far (the merge policy is evaluated when one closes). */
  closedFiles = 0;
  /** Bytes written to data and delta files. */
  bytesWritten = 0;

  constructor(
    private readonly state: CheckpointState,
    private readonly pool: PairPool,
  ) {}

  /** Takes in the pairs a root named as holding rows; the last, if UNDER_CONSTRUCTION, is written on. */
  restore(pairs: OpenPair[]): void {
    this.pairs.push(...pairs.sort((a, b) => a.entry.minVersion - b.entry.minVersion));
    const last = this.pairs[this.pairs.length - 1];
    if (last !== undefined && last.entry.state === CfpState.UNDER_CONSTRUCTION) {
      this.current = last;
      last.dataFd = this.state.layer.open(this.state.path(dataFileName(last.entry.id)), false);
    }
  }

  /** Adds a data entry for an inserted row, committed at `commitTs`, closing and opening pairs as they fill. */
  insert(
    tableId: number,
    versionId: number,
    bytes: Uint8Array,
    offset: number,
    length: number,
    commitTs: number,
  ): void {
    const need = dataEntryBytes(length);
    const block = this.block;
    if (!block.fits(need)) this.flushData();
    let pair = this.current;
    if (pair === null) pair = this.openNext(versionId);
    else if (
      pair.entry.dataLength + BLOCK_HEADER_BYTES + block.used + need > pair.entry.capacity &&
      (pair.entry.rows > 0 || block.count > 0)
    ) {
      this.closeCurrent(versionId - 1);
      pair = this.openNext(versionId);
    }
    block.addRow(tableId, versionId, bytes, offset, length);
    const e = pair.entry;
    e.rows++;
    if (e.firstCommitTs === 0) e.firstCommitTs = commitTs;
    e.lastCommitTs = commitTs;
  }

  /** Records a tombstone for `versionId` in the pair that holds it; returns that pair. */
  delete(versionId: number): OpenPair {
    const pair = this.route(versionId);
    pair.pending.push(versionId);
    pair.entry.tombstones++;
    this.withPending.add(pair);
    return pair;
  }

  /** Writes the data block and every pending delta block built so far (no fsync). */
  flush(): void {
    this.flushData();
    for (const pair of this.withPending) this.writeDelta(pair);
    this.withPending.clear();
  }

  /** Writes a pair's pending tombstones as one delta block (no fsync). */
  writeDelta(pair: OpenPair): void {
    this.bytesWritten += writeDeltaBlock(this.state, pair);
  }

  /**
   * Fsyncs every file written since the last checkpoint, and closes the data
   * files of the pairs no longer written; returns how many files were synced.
   */
  syncAll(): number {
    let synced = 0;
    for (const pair of this.pairs) {
      synced += syncPair(this.state.layer, pair);
      if (pair !== this.current && pair.dataFd >= 0) {
        this.state.layer.close(pair.dataFd);
        pair.dataFd = -1;
      }
    }
    return synced;
  }

  /** Replaces the adjacent pairs `sources` (in order) with `installed`, which cover the same versionIds. */
  replace(sources: OpenPair[], installed: OpenPair[]): void {
    const at = this.pairs.indexOf(sources[0]!);
    assert(at >= 0, 'the merged pairs hold rows');
    assert(
      sources.every((s, i) => this.pairs[at + i] === s),
      'the merged pairs are adjacent and in order',
    );
    assert(!sources.includes(this.current!), 'the pair being written is not merged');
    this.pairs.splice(at, sources.length, ...installed);
  }

  private flushData(): void {
    const pair = this.current;
    if (this.block.count === 0 || pair === null) return;
    const size = this.block.seal();
    const name = dataFileName(pair.entry.id);
    writeAll(this.state.layer, pair.dataFd, name, this.block.bytes, 0, size, pair.entry.dataLength);
    pair.entry.dataLength += size;
    pair.dataDirty = true;
    this.bytesWritten += size;
    this.block.reset();
  }

  /** The pair whose versionId range holds `versionId` (ranges are contiguous, ordered by minVersion). */
  private route(versionId: number): OpenPair {
    const pairs = this.pairs;
    let lo = 0;
    let hi = pairs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (pairs[mid]!.entry.minVersion <= versionId) lo = mid;
      else hi = mid - 1;
    }
    const pair = pairs[lo];
    if (
      pair === undefined ||
      pair.entry.minVersion > versionId ||
      (pair.entry.maxVersion !== null && pair.entry.maxVersion < versionId)
    ) {
      // The log named a version no pair holds: the log or the pairs are damaged, not the writer.
      throw new TidemarkError(
        ErrorCode.CORRUPT,
        `a logged delete ends version ${versionId}, which no checkpoint file holds`,
      );
    }
    return pair;
  }

  private closeCurrent(maxVersion: number): void {
    this.flushData();
    const pair = this.current;
    assert(pair !== null, 'a pair is being written');
    transition(pair.entry, CfpState.UNDER_CONSTRUCTION, CfpState.ACTIVE);
    pair.entry.maxVersion = maxVersion;
    this.current = null;
    this.closedFiles++;
    this.state.structureChanged = true;
  }

  private openNext(minVersion: number): OpenPair {
    assert(this.current === null, 'no pair is being written');
    const pair = this.pool.take();
    const e = pair.entry;
    transition(e, CfpState.PRECREATED, CfpState.UNDER_CONSTRUCTION);
    e.minVersion = minVersion;
    e.maxVersion = null;
    e.sinceCheckpoint = this.state.nextRootSeq;
    pair.dataFd = this.state.layer.open(this.state.path(dataFileName(e.id)), false);
    this.pairs.push(pair);
    this.current = pair;
    this.state.structureChanged = true;
    return pair;
  }
}
