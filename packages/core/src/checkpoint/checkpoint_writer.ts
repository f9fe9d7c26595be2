/**
 * The checkpoint streamer's file side, as a pure module over the file layer
 * (the streamer's loop drives it; tests drive it on one thread). It is a
 * RecordVisitor: every committed record is fed to it in commit order.
 *
 *   insert  ─► a data entry in the block being built for the UNDER_CONSTRUCTION pair
 *   delete  ─► the versionId, into the pending delta block of the pair whose
 *              versionId range holds it (an update is both)
 *   create  ─► the schema catalog
 *
 * This class is the facade over the parts that do the work: the pairs holding
 * rows (pair_writer.ts), the pool of pre-created pairs (pair_pool.ts), the
 * merge lifecycle (merge_lifecycle.ts), the retired sources and their file
 * deletion (retired_pairs.ts) and the root (root_writer.ts). Pair states move
 * only through pair_state.ts. Invariants:
 *
 * - `checkpoint` makes every file written since the last one durable before
 *   it publishes a root naming their lengths, and moves merged sources one
 *   step along (MERGED_SOURCE, TOMBSTONE, gone) per root.
 * - `checkpointTs <= lastTs`: a root covers only what was fed in.
 */
import { assert } from '../assert.js';
import type { FileLayer } from '../files/file_layer.js';
import type { RecordVisitor } from '../log/record.js';
import { CfpState, holdsRows } from './cfp_format.js';
import { CheckpointState, type CheckpointWriterOptions } from './checkpoint_state.js';
import { type MergeCounters, MergeLifecycle } from './merge_lifecycle.js';
import type { MergePlan, MergePolicy } from './merge_policy.js';
import type { MergeResult, MergeTask } from './merge_task.js';
import { closePairFiles, type OpenPair, openPair } from './open_pair.js';
import { pairPaths } from './pair_files.js';
import { PairPool } from './pair_pool.js';
import { leave } from './pair_state.js';
import { PairWriter } from './pair_writer.js';
import { RetiredPairs } from './retired_pairs.js';
import { type CfpEntry, type RootBody, rootName } from './root_format.js';
import { removeOldRoots, writeRoot } from './root_writer.js';

export type { CheckpointWriterOptions } from './checkpoint_state.js';
export type { MergeCounters } from './merge_lifecycle.js';
export { streamStepBytes } from './pair_pool.js';

export interface CheckpointResult {
  /** The root's seq and file name. */
  seq: number;
  file: string;
  checkpointTs: number;
  /** The first WAL segment still needed; segments below it are free. */
  walSeq: number;
  /** Files fsynced for this checkpoint: pre-created ones when they were made, since the last checkpoint; the others here. */
  filesSynced: number;
  durationMs: number;
}

export class CheckpointWriter implements RecordVisitor {
  private readonly state: CheckpointState;
  private readonly pool: PairPool;
  private readonly writer: PairWriter;
  private readonly retired: RetiredPairs;
  private readonly merges: MergeLifecycle;
  private readonly catalog: unknown[];
  private readonly tableRows: number[];
  private commitTs = 0;
  /** The newest commitTs fed in, and the one of the last checkpoint. */
  lastTs: number;
  checkpointTs: number;
  /** Roots written (for statistics). */
  checkpoints = 0;

  constructor(layer: FileLayer, options: CheckpointWriterOptions, root: RootBody | null) {
    this.state = new CheckpointState(layer, options, root);
    this.pool = new PairPool(this.state);
    this.writer = new PairWriter(this.state, this.pool);
    this.retired = new RetiredPairs(this.state);
    this.merges = new MergeLifecycle(this.state, this.writer, this.retired);
    this.checkpointTs = root?.checkpointTs ?? 0;
    this.lastTs = this.checkpointTs;
    this.catalog = root ? [...root.catalog] : [];
    this.tableRows = this.catalog.map((_, id) => root?.tableRows?.[id] ?? 0);
    this.restore(root?.cfps ?? []);
  }

  /** Hands each pair the root names to the part that keeps it. */
  private restore(entries: readonly CfpEntry[]): void {
    const holding: OpenPair[] = [];
    for (const entry of entries) {
      this.pool.sawCapacity(entry.capacity);
      if (entry.state === CfpState.PRECREATED) this.pool.restore(entry);
      else if (holdsRows(entry.state)) holding.push(openPair({ ...entry }));
      else if (entry.state === CfpState.MERGE_TARGET) {
        // A merge the crash cut short: open removed its files, and the next root leaves it out.
        leave(entry, CfpState.MERGE_TARGET);
        this.state.structureChanged = true;
      } else this.retired.restore(entry);
      if (entry.state === CfpState.ACTIVE) this.merges.restoreActive(entry.id);
    }
    this.writer.restore(holding);
  }

  // ── RecordVisitor ──────────────────────────────────────────────────────

  commit(commitTs: number): void {
    this.commitTs = commitTs;
  }

  insert(tableId: number, versionId: number, bytes: Uint8Array, offset: number, length: number): void {
    this.writer.insert(tableId, versionId, bytes, offset, length, this.commitTs);
    this.tableRows[tableId]!++;
  }

  delete(tableId: number, versionId: number): void {
    this.tableRows[tableId]!--;
    const pair = this.writer.delete(versionId);
    if (pair.merging) this.merges.carry(versionId);
  }

  createTable(tableId: number, definition: unknown): void {
    this.catalog[tableId] = definition;
    this.tableRows[tableId] = 0;
    this.state.structureChanged = true;
  }

  /** A schema change: the catalog holds the table's new definition, or null once it is dropped. */
  changeTable(tableId: number, definition: unknown): void {
    this.catalog[tableId] = definition;
    if (definition === null) this.tableRows[tableId] = 0;
    this.state.structureChanged = true;
  }

  end(commitTs: number): void {
    this.lastTs = commitTs;
  }

  // ── Files ──────────────────────────────────────────────────────────────

  /** Writes the data block and every pending delta block built so far (no fsync). */
  flush(): void {
    this.writer.flush();
  }

  /**
   * Flushes, fsyncs every file written since the last checkpoint, and
   * publishes a new root naming `wal` as the first WAL position still needed.
   * Returns null when nothing changed since the last root.
   */
  checkpoint(wal: { seq: number; offset: number }, walBytesStreamed: number): CheckpointResult | null {
    const started = performance.now();
    this.flush();
    if (
      this.lastTs === this.checkpointTs &&
      !this.state.structureChanged &&
      !this.mergeInstallPending &&
      !this.retiring
    )
      return null;
    this.retired.advance();
    if (this.merges.installPending) this.merges.install();
    const filesSynced = this.pool.syncCreated() + this.writer.syncAll();
    const seq = this.state.nextRootSeq;
    writeRoot(this.state, {
      seq,
      databaseId: String(this.state.options.databaseId),
      checkpointTs: this.lastTs,
      wal,
      nextFileId: this.state.nextFileId,
      catalog: this.catalog,
      tableRows: this.tableRows,
      cfps: this.entries(),
      walBytesStreamed,
      writtenAt: Date.now(),
    });
    assert(this.checkpointTs <= this.lastTs, 'a root never goes back in time');
    this.checkpointTs = this.lastTs;
    this.state.structureChanged = false;
    this.checkpoints++;
    removeOldRoots(this.state, seq);
    this.merges.rootWritten(this.writer.pairs);
    this.merges.counters.filesDeleted += this.retired.deleteFiles();
    return {
      seq,
      file: rootName(seq),
      checkpointTs: this.checkpointTs,
      walSeq: wal.seq,
      filesSynced,
      durationMs: performance.now() - started,
    };
  }

  /**
   * Whether the pool should be topped up now: it is short, and a pair will
   * be opened soon (PairPool.neededSoon).
   */
  /** The capacity of the data file being written (or of the next one): a streamer step reads a share of it. */
  get fileCapacity(): number {
    const next = this.writer.current ?? this.pool.pairs[0];
    return next?.entry.capacity ?? this.state.options.dataFileSizeBytes;
  }

  poolNeededSoon(): boolean {
    return this.pool.neededSoon(this.writer.current?.entry ?? null, this.writer.block.used);
  }

  /** Creates PRECREATED files until the pool holds `precreatedFiles` (the streamer calls it when `poolNeededSoon`). Returns how many were made. */
  topUpPool(): number {
    return this.pool.topUp();
  }

  /** How many pairs are in each state, as entries() would list them (without copying them). */
  countByState(): Record<CfpState, number> {
    const counts: Record<CfpState, number> = {
      PRECREATED: 0,
      UNDER_CONSTRUCTION: 0,
      ACTIVE: 0,
      MERGE_TARGET: 0,
      MERGED_SOURCE: 0,
      TOMBSTONE: 0,
    };
    for (const e of this.retired.list) counts[e.state]++;
    counts.MERGE_TARGET += this.merges.targets.length;
    for (const p of this.writer.pairs) counts[p.entry.state]++;
    for (const p of this.pool.pairs) counts[p.entry.state]++;
    return counts;
  }

  /** Every pair as the next root would record it, oldest first. */
  entries(): CfpEntry[] {
    return [
      ...this.retired.list.map((e) => ({ ...e })),
      ...this.merges.targets.map((t) => ({ ...t })),
      ...this.writer.pairs.map((p) => ({ ...p.entry })),
      ...this.pool.pairs.map((p) => ({ ...p.entry })),
    ].sort((a, b) => a.id - b.id);
  }

  // ── Merges (merge_lifecycle.ts) ────────────────────────────────────────

  /** The merge to run next under `policy` (null: none, or a merge is already in progress). */
  planMerge(policy: MergePolicy): MergePlan | null {
    return this.merges.plan(policy);
  }

  /** Starts merging `plan.sources` into `plan.targets` new pairs; returns the task for a merge runner. */
  beginMerge(plan: MergePlan): MergeTask {
    const droppedTables = this.catalog.flatMap((definition, id) => (definition === null ? [id] : []));
    return { ...this.merges.begin(plan), droppedTables };
  }

  /** The merge task finished: its targets are installed at the next checkpoint. */
  finishMerge(result: MergeResult): void {
    this.merges.finish(result);
  }

  /** The merge task failed: its files are removed and the sources stay as they are. */
  abandonMerge(): void {
    this.merges.abandon();
  }

  get mergeRunning(): boolean {
    return this.merges.running;
  }

  get mergeInstallPending(): boolean {
    return this.merges.installPending;
  }

  /** Whether merged sources still wait to become TOMBSTONE, have their files deleted, or leave the root. */
  get retiring(): boolean {
    return this.retired.retiring;
  }

  /** Whether merged sources still have files on disk. */
  get retiringFiles(): boolean {
    return this.retired.retiringFiles;
  }

  // ── Figures ────────────────────────────────────────────────────────────

  get mergeCounters(): MergeCounters {
    return this.merges.counters;
  }

  /** Data files closed so far (the merge policy is evaluated when one closes). */
  get closedFiles(): number {
    return this.writer.closedFiles;
  }

  get filesCreated(): number {
    return this.pool.filesCreated;
  }

  get poolMisses(): number {
    return this.pool.misses;
  }

  get bytesWritten(): number {
    return this.writer.bytesWritten;
  }

  get seq(): number {
    return this.state.rootSeq;
  }

  /** Paths of a pair's two files. */
  fileNames(id: number): string[] {
    return pairPaths(this.state, id);
  }

  close(): void {
    for (const pair of [...this.writer.pairs, ...this.pool.pairs]) closePairFiles(this.state.layer, pair);
  }
}
