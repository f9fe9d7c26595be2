/**
 * The checkpoint streamer's file side, as a pure module over the file layer
 * (the streamer worker drives it; tests drive it on one thread). It is a
 * RecordVisitor: every committed record is fed to it in commit order.
 *
 *   insert  ─► a data entry in the block being built for the UNDER_CONSTRUCTION CFP
 *   delete  ─► the versionId, into the pending delta block of the CFP whose
 *              versionId range holds it (an update is both)
 *   create  ─► the schema catalog
 *
 * Blocks are written with one positional write each (`flush`), never one
 * syscall per row. A data file is closed (ACTIVE) when the next entry would
 * pass its capacity, and the next CFP is taken from the PRECREATED pool.
 * `checkpoint` makes every file written since the last one durable and
 * publishes a new root file (temp name → fsync → rename → directory fsync).
 */
import { join } from 'node:path';
import { ErrorCode, isTidemarkError, TidemarkError } from '../errors.js';
import { BLOCK_HEADER_BYTES, sealBlock } from '../files/block.js';
import { decodeFileHeader, encodeFileHeader, FILE_HEADER_BYTES } from '../files/file_header.js';
import { readAll, writeAll, writeFileDurably, type FileLayer } from '../files/file_layer.js';
import type { RecordVisitor } from '../log/record.js';
import {
  CFP_FORMAT_VERSION,
  CfpState,
  DATA_MAGIC,
  dataEntryBytes,
  dataFileName,
  DELTA_BLOCK_MAGIC,
  DELTA_ENTRY_BYTES,
  DELTA_MAGIC,
  deltaFileName,
  holdsRows,
} from './cfp_format.js';
import { encodeRoot, rootName, rootSeq, type CfpEntry, type RootBody } from './root_format.js';
import { DataBlockBuilder } from './data_block.js';
import { chooseMerge, type MergePlan, type MergePolicy } from './merge_policy.js';
import type { MergeResult, MergeTask } from './merge_task.js';

const ZERO_CHUNK_BYTES = 1 << 20;
/** Roots kept: the newest, and the one before it. */
const ROOTS_KEPT = 2;

export interface CheckpointWriterOptions {
  dir: string;
  databaseId: bigint;
  /** Capacity of a data file; it closes when the next entry would pass it. */
  dataFileSizeBytes: number;
  /** PRECREATED files kept ready ahead of need. */
  precreatedFiles: number;
  /** Permissions of the files a merge task creates (its own layer's are set where it was made); default owner only. */
  fileMode?: number;
}

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

interface OpenCfp {
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

/** The merge in progress: begun, then done (result set), then installed at the next checkpoint. */
interface MergeInProgress {
  /** The pairs being written (MERGE_TARGET), in the order the task fills them; one it does not reach is not made. */
  targets: CfpEntry[];
  sources: OpenCfp[];
  /** Tombstones that reached the sources after the merge read them. */
  carried: number[];
  result: MergeResult | null;
}

/** What the merges and the file lifecycle did, for statistics. */
export interface MergeCounters {
  merges: number;
  mergeFailures: number;
  mergeRowsDropped: number;
  mergeBytesRead: number;
  mergeBytesWritten: number;
  tombstonesCarried: number;
  /** Checkpoint files deleted once no kept root needed them. */
  filesDeleted: number;
}

/**
 * WAL bytes the streamer reads per step at most: an eighth of a data file,
 * within 1 MiB to 16 MiB. The pool's top-up is due a quarter of a data
 * file before a pair closes (`CheckpointWriter.poolNeededSoon`), and a
 * step's data-file entries are at most about 1.5 times the log bytes it
 * read (an entry pads its row to 8 bytes where the log does not; the
 * smallest rows are 4 bytes), so the top-up comes at least a step ahead.
 * Not more than 16 MiB, so triggers and control calls are seen regularly;
 * not less than 1 MiB, as each step costs a write and a look at the
 * control cells: with 64 KiB files, 8 KiB steps left the streamer behind
 * the crash test's WAL bound. Below 8 MiB files a step may so pass the
 * top-up point, and a pair open with the pool empty (a pool miss, counted).
 */
export function streamStepBytes(dataFileSizeBytes: number): number {
  return Math.min(16 << 20, Math.max(1 << 20, Math.floor(dataFileSizeBytes / 8)));
}

export class CheckpointWriter implements RecordVisitor {
  /** CFPs holding rows (UNDER_CONSTRUCTION and ACTIVE), by minVersion. */
  private readonly cfps: OpenCfp[] = [];
  /** PRECREATED CFPs, oldest first. */
  private readonly pool: OpenCfp[] = [];
  /** Merged sources on their way out: MERGED_SOURCE, then TOMBSTONE (files deleted), then dropped. */
  private others: CfpEntry[];
  /** Ids of TOMBSTONE pairs whose files are gone. */
  private readonly deleted = new Set<number>();
  /** Ids of the pairs ACTIVE in the last root written (a merge reads only those). */
  private readonly activeInRoot = new Set<number>();
  private merge: MergeInProgress | null = null;
  readonly mergeCounters: MergeCounters = {
    merges: 0,
    mergeFailures: 0,
    mergeRowsDropped: 0,
    mergeBytesRead: 0,
    mergeBytesWritten: 0,
    tombstonesCarried: 0,
    filesDeleted: 0,
  };
  /** Data files closed so far (the merge policy is evaluated when one closes). */
  closedFiles = 0;
  private current: OpenCfp | null = null;
  private readonly catalog: unknown[];
  private readonly tableRows: number[];
  private readonly block = new DataBlockBuilder();
  private readonly withPending = new Set<OpenCfp>();
  /** Files created since the last checkpoint, not synced yet. */
  private readonly created: string[] = [];
  private rootSeq: number;
  private nextFileId: number;
  private commitTs = 0;
  /** The newest commitTs fed in, and the one of the last checkpoint. */
  lastTs: number;
  checkpointTs: number;
  /** Whether anything besides the commit position changed since the last root (a file created, closed). */
  private structureChanged = false;
  /** Counters for statistics. */
  checkpoints = 0;
  filesCreated = 0;
  poolMisses = 0;
  bytesWritten = 0;

  constructor(
    private readonly layer: FileLayer,
    private readonly options: CheckpointWriterOptions,
    root: RootBody | null,
  ) {
    this.rootSeq = root?.seq ?? 0;
    this.nextFileId = root?.nextFileId ?? 1;
    this.checkpointTs = root?.checkpointTs ?? 0;
    this.lastTs = this.checkpointTs;
    this.catalog = root ? [...root.catalog] : [];
    this.tableRows = this.catalog.map((_, id) => root?.tableRows?.[id] ?? 0);
    this.others = [];
    for (const entry of root?.cfps ?? []) {
      const cfp: OpenCfp = {
        entry: { ...entry },
        merging: false,
        dataFd: -1,
        deltaFd: -1,
        dataDirty: false,
        deltaDirty: false,
        pending: [],
      };
      if (entry.state === CfpState.PRECREATED) {
        if (this.precreatedIntact(entry)) this.pool.push(cfp);
        else this.dropPrecreated(entry);
      } else if (holdsRows(entry.state)) this.cfps.push(cfp);
      else if (entry.state === CfpState.MERGE_TARGET)
        this.structureChanged = true; // a merge the crash cut short: open removed its files
      else this.others.push({ ...entry });
      if (entry.state === CfpState.ACTIVE) this.activeInRoot.add(entry.id);
      if (entry.state === CfpState.TOMBSTONE) this.deleted.add(entry.id); // open removed its files
    }
    this.cfps.sort((a, b) => a.entry.minVersion - b.entry.minVersion);
    const last = this.cfps[this.cfps.length - 1];
    if (last !== undefined && last.entry.state === CfpState.UNDER_CONSTRUCTION) {
      this.current = last;
      last.dataFd = this.layer.open(this.path(dataFileName(last.entry.id)), false);
    }
  }

  // ── RecordVisitor ──────────────────────────────────────────────────────

  commit(commitTs: number): void {
    this.commitTs = commitTs;
  }

  insert(tableId: number, versionId: number, bytes: Uint8Array, offset: number, length: number): void {
    const need = dataEntryBytes(length);
    const block = this.block;
    if (!block.fits(need)) this.flushData();
    let cfp = this.current;
    if (cfp === null) cfp = this.openNext(versionId);
    else if (
      cfp.entry.dataLength + BLOCK_HEADER_BYTES + block.used + need > cfp.entry.capacity &&
      (cfp.entry.rows > 0 || block.count > 0)
    ) {
      this.closeCurrent(versionId - 1);
      cfp = this.openNext(versionId);
    }
    block.addRow(tableId, versionId, bytes, offset, length);
    this.tableRows[tableId]!++;
    const e = cfp.entry;
    e.rows++;
    if (e.firstCommitTs === 0) e.firstCommitTs = this.commitTs;
    e.lastCommitTs = this.commitTs;
  }

  delete(tableId: number, versionId: number): void {
    this.tableRows[tableId]!--;
    const cfp = this.route(versionId);
    cfp.pending.push(versionId);
    if (cfp.merging) this.merge!.carried.push(versionId);
    cfp.entry.tombstones++;
    this.withPending.add(cfp);
  }

  createTable(tableId: number, definition: unknown): void {
    this.catalog[tableId] = definition;
    this.tableRows[tableId] = 0;
    this.structureChanged = true;
  }

  end(commitTs: number): void {
    this.lastTs = commitTs;
  }

  // ── Files ──────────────────────────────────────────────────────────────

  /** Writes the data block and every pending delta block built so far (no fsync). */
  flush(): void {
    this.flushData();
    for (const cfp of this.withPending) this.flushDelta(cfp);
    this.withPending.clear();
  }

  /**
   * Flushes, fsyncs every file written since the last checkpoint, and
   * publishes a new root naming `wal` as the first WAL position still needed.
   * Returns null when nothing changed since the last root.
   */
  checkpoint(wal: { seq: number; offset: number }, walBytesStreamed: number): CheckpointResult | null {
    const started = performance.now();
    this.flush();
    if (this.lastTs === this.checkpointTs && !this.structureChanged && !this.mergeInstallPending && !this.retiring)
      return null;
    this.retireMerged();
    if (this.merge?.result) this.installMerge(this.merge);
    let filesSynced = this.syncCreated();
    for (const cfp of this.cfps) {
      if (cfp.dataDirty) {
        this.layer.fdatasync(cfp.dataFd);
        cfp.dataDirty = false;
        filesSynced++;
      }
      if (cfp.deltaDirty) {
        this.layer.fdatasync(cfp.deltaFd);
        cfp.deltaDirty = false;
        filesSynced++;
      }
      if (cfp !== this.current && cfp.dataFd >= 0) {
        this.layer.close(cfp.dataFd);
        cfp.dataFd = -1;
      }
    }
    const seq = this.rootSeq + 1;
    const body: RootBody = {
      seq,
      databaseId: String(this.options.databaseId),
      checkpointTs: this.lastTs,
      wal,
      nextFileId: this.nextFileId,
      catalog: this.catalog,
      tableRows: this.tableRows,
      cfps: this.entries(),
      walBytesStreamed,
      writtenAt: Date.now(),
    };
    writeFileDurably(this.layer, this.options.dir, rootName(seq), encodeRoot(body));
    this.rootSeq = seq;
    this.checkpointTs = this.lastTs;
    this.structureChanged = false;
    this.checkpoints++;
    for (const name of this.layer.list(this.options.dir)) {
      const s = rootSeq(name);
      if (s >= 0 && s <= seq - ROOTS_KEPT) this.layer.unlink(this.path(name));
    }
    this.activeInRoot.clear();
    for (const cfp of this.cfps) if (cfp.entry.state === CfpState.ACTIVE) this.activeInRoot.add(cfp.entry.id);
    this.deleteTombstoned();
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
   * be opened soon — none is being written, or the one being written is at
   * least three quarters full. Not sooner: a pre-created pair is a whole
   * data file of disk, held for as long as it waits (topped up whenever
   * the streamer was idle, one was held most of the time under updates).
   * The streamer's steps are small against a data file
   * (`streamStepBytes`), so the top-up still comes before the pair closes,
   * busy or not.
   */
  poolNeededSoon(): boolean {
    if (this.pool.length >= this.options.precreatedFiles) return false;
    const current = this.current?.entry;
    return current === undefined || (current.dataLength + this.block.used) * 4 >= current.capacity * 3;
  }

  /** Creates PRECREATED files until the pool holds `precreatedFiles` (the streamer calls it when `poolNeededSoon`). Returns how many were made. */
  topUpPool(): number {
    let made = 0;
    while (this.pool.length < this.options.precreatedFiles) {
      this.pool.push(this.precreate());
      made++;
    }
    return made;
  }

  /** How many CFPs are in each state, as entries() would list them (without copying them). */
  countByState(): Record<CfpState, number> {
    const counts: Record<CfpState, number> = {
      PRECREATED: 0,
      UNDER_CONSTRUCTION: 0,
      ACTIVE: 0,
      MERGE_TARGET: 0,
      MERGED_SOURCE: 0,
      TOMBSTONE: 0,
    };
    for (const e of this.others) counts[e.state]++;
    if (this.merge !== null) counts.MERGE_TARGET += this.merge.targets.length;
    for (const c of this.cfps) counts[c.entry.state]++;
    for (const c of this.pool) counts[c.entry.state]++;
    return counts;
  }

  /** Every CFP as the next root would record it, oldest first. */
  entries(): CfpEntry[] {
    const merging = this.merge === null ? [] : this.merge.targets.map((t) => ({ ...t }));
    return [
      ...this.others.map((e) => ({ ...e })),
      ...merging,
      ...this.cfps.map((c) => ({ ...c.entry })),
      ...this.pool.map((c) => ({ ...c.entry })),
    ].sort((a, b) => a.id - b.id);
  }

  // ── Merges ─────────────────────────────────────────────────────────────

  /** The merge to run next under `policy` (null: none, or a merge is already in progress). */
  planMerge(policy: MergePolicy): MergePlan | null {
    if (this.merge !== null) return null;
    const mergeable = (e: CfpEntry): boolean => e.state === CfpState.ACTIVE && this.activeInRoot.has(e.id);
    return chooseMerge(
      this.cfps.map((c) => c.entry),
      mergeable,
      policy,
    );
  }

  /**
   * Starts merging the pairs `plan.sources` (adjacent, ACTIVE) into
   * `plan.targets` new pairs: flushes the sources' pending tombstones so
   * the task reads them, gives each target a file id (each listed as
   * MERGE_TARGET until the install, so that a crash removes its files),
   * and from now on carries every new tombstone of the sources over to the
   * targets. Returns the task for a merge runner.
   */
  beginMerge(plan: MergePlan): MergeTask {
    if (this.merge !== null) throw new Error('a merge is already in progress');
    this.flush();
    const sources = plan.sources.map((id) => this.cfps.find((c) => c.entry.id === id)!);
    const first = sources[0]!.entry;
    const last = sources[sources.length - 1]!.entry;
    let firstCommitTs = Math.min(...sources.map((s) => s.entry.firstCommitTs).filter((ts) => ts > 0), Infinity);
    if (!Number.isFinite(firstCommitTs)) firstCommitTs = 0;
    // Rows do not carry their commitTs: every target gets the sources' whole commit range.
    const targets: CfpEntry[] = Array.from({ length: plan.targets }, () => ({
      id: this.nextFileId++,
      state: CfpState.MERGE_TARGET,
      minVersion: first.minVersion,
      maxVersion: last.maxVersion,
      firstCommitTs,
      lastCommitTs: Math.max(...sources.map((s) => s.entry.lastCommitTs)),
      capacity: 0,
      dataLength: 0,
      deltaLength: 0,
      rows: 0,
      tombstones: 0,
      sinceCheckpoint: this.rootSeq + 1,
    }));
    for (const s of sources) s.merging = true;
    this.merge = { targets, sources, carried: [], result: null };
    this.structureChanged = true;
    return {
      dir: this.options.dir,
      databaseId: String(this.options.databaseId),
      targets: targets.map((t) => t.id),
      targetBytes: this.options.dataFileSizeBytes,
      sources: sources.map((s) => ({ ...s.entry })),
      fileMode: this.options.fileMode,
    };
  }

  /** The merge task finished: its targets are installed at the next checkpoint. */
  finishMerge(result: MergeResult): void {
    const merge = this.merge;
    const ids = result.targets.map((t) => t.id);
    if (merge === null || ids.length === 0 || ids.some((id, i) => merge.targets[i]?.id !== id))
      throw new Error(`no merge into pairs ${ids.join(', ')} is in progress`);
    merge.result = result;
  }

  /** The merge task failed: its files are removed and the sources stay as they are. */
  abandonMerge(): void {
    const merge = this.merge;
    if (merge === null) return;
    for (const s of merge.sources) s.merging = false;
    for (const t of merge.targets) this.removeFiles(t.id);
    this.merge = null;
    this.mergeCounters.mergeFailures++;
    this.structureChanged = true;
  }

  get mergeRunning(): boolean {
    return this.merge !== null && this.merge.result === null;
  }

  get mergeInstallPending(): boolean {
    return this.merge !== null && this.merge.result !== null;
  }

  /** Whether merged sources still wait to become TOMBSTONE, have their files deleted, or leave the root. */
  get retiring(): boolean {
    return this.others.length > 0;
  }

  /** Whether merged sources still have files on disk. */
  get retiringFiles(): boolean {
    return this.others.some((e) => !this.deleted.has(e.id));
  }

  /**
   * Installs a finished merge in the root being made: the targets take the
   * sources' place (ACTIVE, each over its part of their union range, so
   * later deletes route to it), the tombstones the sources received since
   * the merge read them go to the delta file of the target holding each
   * version, and the sources become MERGED_SOURCE. A target the task did
   * not make leaves the root.
   */
  private installMerge(merge: MergeInProgress): void {
    const result = merge.result!;
    const installed: OpenCfp[] = result.targets.map((t, i) => ({
      entry: {
        ...merge.targets[i]!,
        state: CfpState.ACTIVE,
        minVersion: t.minVersion,
        maxVersion: t.maxVersion,
        capacity: t.dataLength,
        dataLength: t.dataLength,
        deltaLength: t.deltaLength,
        rows: t.rows,
        tombstones: 0,
      },
      merging: false,
      dataFd: -1,
      deltaFd: -1,
      dataDirty: false,
      deltaDirty: false,
      pending: [],
    }));
    for (const versionId of merge.carried) {
      const target = installed.find((t) => t.entry.minVersion <= versionId && versionId <= t.entry.maxVersion!)!;
      target.pending.push(versionId);
    }
    for (const target of installed) {
      target.entry.tombstones = target.pending.length;
      this.flushDelta(target);
    }
    const at = this.cfps.indexOf(merge.sources[0]!);
    this.cfps.splice(at, merge.sources.length, ...installed);
    for (const s of merge.sources) {
      if (s.dataFd >= 0) this.layer.close(s.dataFd);
      if (s.deltaFd >= 0) this.layer.close(s.deltaFd);
      this.others.push({ ...s.entry, state: CfpState.MERGED_SOURCE });
    }
    const c = this.mergeCounters;
    c.merges++;
    c.mergeRowsDropped += result.rowsDropped;
    c.mergeBytesRead += result.bytesRead;
    c.mergeBytesWritten += result.bytesWritten;
    c.tombstonesCarried += merge.carried.length;
    this.merge = null;
  }

  /**
   * Moves merged sources one step along before a root is written: those
   * MERGED_SOURCE in the last root become TOMBSTONE (their files are deleted
   * once that root is written and the root before it, the last to name them
   * ACTIVE, is gone); TOMBSTONE ones whose files are gone leave the root.
   */
  private retireMerged(): void {
    this.others = this.others.filter((e) => !(e.state === CfpState.TOMBSTONE && this.deleted.has(e.id)));
    for (const e of this.others) if (e.state === CfpState.MERGED_SOURCE) e.state = CfpState.TOMBSTONE;
    for (const id of [...this.deleted]) if (!this.others.some((e) => e.id === id)) this.deleted.delete(id);
  }

  /** Deletes the files of TOMBSTONE pairs (after their root is written and the older roots are gone). */
  private deleteTombstoned(): void {
    let removed = 0;
    for (const e of this.others) {
      if (e.state !== CfpState.TOMBSTONE || this.deleted.has(e.id)) continue;
      removed += this.removeFiles(e.id, false);
      this.deleted.add(e.id);
    }
    if (removed > 0) this.layer.fsyncDir(this.options.dir);
    this.mergeCounters.filesDeleted += removed;
  }

  /** Paths of a pair's two files. */
  fileNames(id: number): string[] {
    return [this.path(dataFileName(id)), this.path(deltaFileName(id))];
  }

  /** Unlinks a pair's files that exist; returns how many. */
  private removeFiles(id: number, syncDir = true): number {
    let removed = 0;
    for (const path of this.fileNames(id)) {
      if (!this.layer.exists(path)) continue;
      this.layer.unlink(path);
      removed++;
    }
    if (removed > 0 && syncDir) this.layer.fsyncDir(this.options.dir);
    return removed;
  }

  get seq(): number {
    return this.rootSeq;
  }

  close(): void {
    for (const cfp of [...this.cfps, ...this.pool]) {
      if (cfp.dataFd >= 0) this.layer.close(cfp.dataFd);
      if (cfp.deltaFd >= 0) this.layer.close(cfp.deltaFd);
      cfp.dataFd = cfp.deltaFd = -1;
    }
  }

  private flushData(): void {
    const cfp = this.current;
    if (this.block.count === 0 || cfp === null) return;
    const size = this.block.seal();
    const name = dataFileName(cfp.entry.id);
    writeAll(this.layer, cfp.dataFd, name, this.block.bytes, 0, size, cfp.entry.dataLength);
    cfp.entry.dataLength += size;
    cfp.dataDirty = true;
    this.bytesWritten += size;
    this.block.reset();
  }

  private flushDelta(cfp: OpenCfp): void {
    const ids = cfp.pending;
    if (ids.length === 0) return;
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
    const name = deltaFileName(cfp.entry.id);
    if (cfp.deltaFd < 0) cfp.deltaFd = this.layer.open(this.path(name), false);
    writeAll(this.layer, cfp.deltaFd, name, bytes, 0, size, cfp.entry.deltaLength);
    cfp.entry.deltaLength += size;
    cfp.deltaDirty = true;
    this.bytesWritten += size;
    cfp.pending = [];
  }

  /** The CFP whose versionId range holds `versionId` (ranges are contiguous, ordered by minVersion). */
  private route(versionId: number): OpenCfp {
    const cfps = this.cfps;
    let lo = 0;
    let hi = cfps.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (cfps[mid]!.entry.minVersion <= versionId) lo = mid;
      else hi = mid - 1;
    }
    const cfp = cfps[lo];
    if (
      cfp === undefined ||
      cfp.entry.minVersion > versionId ||
      (cfp.entry.maxVersion !== null && cfp.entry.maxVersion < versionId)
    ) {
      throw new TidemarkError(
        ErrorCode.CORRUPT,
        `a logged delete ends version ${versionId}, which no checkpoint file holds`,
      );
    }
    return cfp;
  }

  private closeCurrent(maxVersion: number): void {
    this.flushData();
    const cfp = this.current!;
    cfp.entry.state = CfpState.ACTIVE;
    cfp.entry.maxVersion = maxVersion;
    this.current = null;
    this.closedFiles++;
    this.structureChanged = true;
  }

  private openNext(minVersion: number): OpenCfp {
    let cfp = this.pool.shift();
    if (cfp === undefined) {
      this.poolMisses++;
      cfp = this.precreate();
    }
    const e = cfp.entry;
    e.state = CfpState.UNDER_CONSTRUCTION;
    e.minVersion = minVersion;
    e.maxVersion = null;
    e.sinceCheckpoint = this.rootSeq + 1;
    cfp.dataFd = this.layer.open(this.path(dataFileName(e.id)), false);
    this.cfps.push(cfp);
    this.current = cfp;
    this.structureChanged = true;
    return cfp;
  }

  /**
   * Whether a PRECREATED pair the root names is fit to take: both files
   * there, the data file at full size, both headers valid and naming it. It
   * holds no rows, so one that is not (a file lost or damaged while the
   * database was closed) is dropped and replaced rather than failing later.
   */
  private precreatedIntact(entry: CfpEntry): boolean {
    const files = [
      [dataFileName(entry.id), DATA_MAGIC, entry.capacity],
      [deltaFileName(entry.id), DELTA_MAGIC, FILE_HEADER_BYTES],
    ] as const;
    for (const [name, magic, size] of files) {
      const path = this.path(name);
      if (!this.layer.exists(path) || this.layer.size(path) < size) return false;
      const bytes = new Uint8Array(FILE_HEADER_BYTES);
      const fd = this.layer.open(path, false);
      try {
        readAll(this.layer, fd, bytes, 0, bytes.length, 0);
        const header = decodeFileHeader(bytes, magic, CFP_FORMAT_VERSION, path, 'pre-created pair file');
        if (header.id !== entry.id || header.databaseId !== this.options.databaseId) return false;
      } catch (error) {
        if (isTidemarkError(error, ErrorCode.CORRUPT)) return false;
        throw error;
      } finally {
        this.layer.close(fd);
      }
    }
    return true;
  }

  /** Removes what is left of a broken PRECREATED pair; the next root no longer names it. */
  private dropPrecreated(entry: CfpEntry): void {
    for (const name of [dataFileName(entry.id), deltaFileName(entry.id)]) {
      if (this.layer.exists(this.path(name))) this.layer.unlink(this.path(name));
    }
    this.structureChanged = true;
  }

  /** A new pair: the data file zero-filled to its capacity (space really reserved), the delta file with its header; synced at the next checkpoint. */
  private precreate(): OpenCfp {
    const id = this.nextFileId++;
    const capacity = this.options.dataFileSizeBytes;
    const header = (magic: string, size: number): Uint8Array =>
      encodeFileHeader({ magic, version: CFP_FORMAT_VERSION, id, databaseId: this.options.databaseId, size, aux: 0 });
    this.createFile(dataFileName(id), header(DATA_MAGIC, capacity), capacity);
    this.createFile(deltaFileName(id), header(DELTA_MAGIC, 0), FILE_HEADER_BYTES);
    this.filesCreated += 2;
    this.structureChanged = true;
    const entry: CfpEntry = {
      id,
      state: CfpState.PRECREATED,
      minVersion: 0,
      maxVersion: null,
      firstCommitTs: 0,
      lastCommitTs: 0,
      capacity,
      dataLength: FILE_HEADER_BYTES,
      deltaLength: FILE_HEADER_BYTES,
      rows: 0,
      tombstones: 0,
      sinceCheckpoint: 0,
    };
    return { entry, merging: false, dataFd: -1, deltaFd: -1, dataDirty: false, deltaDirty: false, pending: [] };
  }

  /**
   * Writes a new file: header, then zeros to `size`, and syncs it, so a
   * pre-created pair is on disk whole when it enters the pool (the pool is
   * topped up ahead of need, see poolNeededSoon) and a checkpoint has no pair
   * files of zeros to sync: syncing them there made each checkpoint write a
   * whole `dataFileSizeBytes` of zeros per new pair. No root names the file
   * yet (its id is at or past the last root's nextFileId, so an open after
   * a crash removes it); the next checkpoint syncs the directory before its
   * root names it.
   */
  private createFile(name: string, header: Uint8Array, size: number): void {
    const path = this.path(name);
    const fd = this.layer.open(path, true);
    try {
      writeAll(this.layer, fd, path, header, 0, header.length, 0);
      const zeros = new Uint8Array(Math.min(ZERO_CHUNK_BYTES, Math.max(0, size - FILE_HEADER_BYTES)));
      for (let at = FILE_HEADER_BYTES; at < size; at += zeros.length)
        writeAll(this.layer, fd, path, zeros, 0, Math.min(zeros.length, size - at), at);
      this.layer.fdatasync(fd);
    } finally {
      this.layer.close(fd);
    }
    this.created.push(path);
  }

  /** Syncs the directory that names the files created (and synced) since the last checkpoint. */
  private syncCreated(): number {
    const created = this.created.splice(0);
    if (created.length > 0) this.layer.fsyncDir(this.options.dir);
    return created.length;
  }

  private path(name: string): string {
    return join(this.options.dir, name);
  }
}
