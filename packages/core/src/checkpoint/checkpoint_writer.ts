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
import { ErrorCode, TidemarkError } from '../errors.js';
import { BLOCK_HEADER_BYTES, sealBlock } from '../files/block.js';
import { encodeFileHeader, FILE_HEADER_BYTES } from '../files/file_header.js';
import { writeAll, writeFileDurably, type FileLayer } from '../files/file_layer.js';
import { MAX_ROW_BYTES } from '../constants.js';
import type { RecordVisitor } from '../log/record.js';
import {
  CFP_FORMAT_VERSION,
  CfpState,
  DATA_BLOCK_MAGIC,
  DATA_ENTRY_HEADER_BYTES,
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

/** Data entries are gathered into blocks of at most this many bytes (a whole row always fits one). */
const DATA_BLOCK_BYTES = Math.max(1 << 20, dataEntryBytes(MAX_ROW_BYTES) + BLOCK_HEADER_BYTES);
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
}

export interface CheckpointResult {
  /** The root's seq and file name. */
  seq: number;
  file: string;
  checkpointTs: number;
  /** The first WAL segment still needed; segments below it are free. */
  walSeq: number;
  /** Files fsynced for this checkpoint. */
  filesSynced: number;
  durationMs: number;
}

interface OpenCfp {
  entry: CfpEntry;
  dataFd: number;
  deltaFd: number;
  /** Written since the last checkpoint, not yet fsynced. */
  dataDirty: boolean;
  deltaDirty: boolean;
  /** VersionIds deleted, not written to the delta file yet. */
  pending: number[];
}

export class CheckpointWriter implements RecordVisitor {
  /** CFPs holding rows (UNDER_CONSTRUCTION and ACTIVE), by minVersion. */
  private readonly cfps: OpenCfp[] = [];
  /** PRECREATED CFPs, oldest first. */
  private readonly pool: OpenCfp[] = [];
  /** CFPs in other states (a merge's), carried from root to root unchanged. */
  private readonly others: CfpEntry[];
  private current: OpenCfp | null = null;
  private readonly catalog: unknown[];
  private readonly tableRows: number[];
  private readonly block = new Uint8Array(DATA_BLOCK_BYTES);
  private readonly blockView = new DataView(this.block.buffer);
  private blockBytes = 0;
  private blockCount = 0;
  private blockFirst = 0;
  private blockLast = 0;
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
      const cfp: OpenCfp = { entry: { ...entry }, dataFd: -1, deltaFd: -1, dataDirty: false, deltaDirty: false, pending: [] };
      if (entry.state === CfpState.PRECREATED) this.pool.push(cfp);
      else if (holdsRows(entry.state)) this.cfps.push(cfp);
      else this.others.push({ ...entry });
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
    if (this.blockBytes + need > DATA_BLOCK_BYTES - BLOCK_HEADER_BYTES) this.flushData();
    let cfp = this.current;
    if (cfp === null) cfp = this.openNext(versionId);
    else if (cfp.entry.dataLength + BLOCK_HEADER_BYTES + this.blockBytes + need > cfp.entry.capacity && (cfp.entry.rows > 0 || this.blockCount > 0)) {
      this.closeCurrent(versionId - 1);
      cfp = this.openNext(versionId);
    }
    const at = BLOCK_HEADER_BYTES + this.blockBytes;
    const v = this.blockView;
    v.setUint16(at, tableId, true);
    v.setUint16(at + 2, 0, true);
    v.setUint32(at + 4, length, true);
    v.setFloat64(at + 8, versionId, true);
    this.block.set(bytes.subarray(offset, offset + length), at + DATA_ENTRY_HEADER_BYTES);
    this.block.fill(0, at + DATA_ENTRY_HEADER_BYTES + length, at + need);
    if (this.blockCount === 0) this.blockFirst = versionId;
    this.blockLast = versionId;
    this.blockBytes += need;
    this.blockCount++;
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
    if (this.lastTs === this.checkpointTs && !this.structureChanged) return null;
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
    return { seq, file: rootName(seq), checkpointTs: this.checkpointTs, walSeq: wal.seq, filesSynced, durationMs: performance.now() - started };
  }

  /** Creates PRECREATED files until the pool holds `precreatedFiles` (call when idle). Returns how many were made. */
  topUpPool(): number {
    let made = 0;
    while (this.pool.length < this.options.precreatedFiles) {
      this.pool.push(this.precreate());
      made++;
    }
    return made;
  }

  /** Every CFP as the next root would record it, oldest first. */
  entries(): CfpEntry[] {
    return [...this.others, ...this.cfps.map((c) => ({ ...c.entry })), ...this.pool.map((c) => ({ ...c.entry }))].sort((a, b) => a.id - b.id);
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
    if (this.blockCount === 0 || cfp === null) return;
    const size = sealBlock(this.block, 0, DATA_BLOCK_MAGIC, this.blockBytes, this.blockCount, this.blockFirst, this.blockLast);
    const name = dataFileName(cfp.entry.id);
    writeAll(this.layer, cfp.dataFd, name, this.block, 0, size, cfp.entry.dataLength);
    cfp.entry.dataLength += size;
    cfp.dataDirty = true;
    this.bytesWritten += size;
    this.blockBytes = 0;
    this.blockCount = 0;
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
    if (cfp === undefined || cfp.entry.minVersion > versionId || (cfp.entry.maxVersion !== null && cfp.entry.maxVersion < versionId)) {
      throw new TidemarkError(ErrorCode.CORRUPT, `a logged delete ends version ${versionId}, which no checkpoint file holds`);
    }
    return cfp;
  }

  private closeCurrent(maxVersion: number): void {
    this.flushData();
    const cfp = this.current!;
    cfp.entry.state = CfpState.ACTIVE;
    cfp.entry.maxVersion = maxVersion;
    this.current = null;
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
    return { entry, dataFd: -1, deltaFd: -1, dataDirty: false, deltaDirty: false, pending: [] };
  }

  /**
   * Writes a new file: header, then zeros to `size`. It is not synced here:
   * no root names it yet (its id is at or past the last root's nextFileId,
   * so an open after a crash removes it), and the next checkpoint syncs it
   * and the directory before its root names it.
   */
  private createFile(name: string, header: Uint8Array, size: number): void {
    const path = this.path(name);
    const fd = this.layer.open(path, true);
    try {
      writeAll(this.layer, fd, path, header, 0, header.length, 0);
      const zeros = new Uint8Array(Math.min(ZERO_CHUNK_BYTES, Math.max(0, size - FILE_HEADER_BYTES)));
      for (let at = FILE_HEADER_BYTES; at < size; at += zeros.length) writeAll(this.layer, fd, path, zeros, 0, Math.min(zeros.length, size - at), at);
    } finally {
      this.layer.close(fd);
    }
    this.created.push(path);
  }

  /** Syncs the files created since the last checkpoint, and the directory that names them. */
  private syncCreated(): number {
    const created = this.created.splice(0);
    for (const path of created) {
      const fd = this.layer.open(path, false);
      try {
        this.layer.fdatasync(fd);
      } finally {
        this.layer.close(fd);
      }
    }
    if (created.length > 0) this.layer.fsyncDir(this.options.dir);
    return created.length;
  }

  private path(name: string): string {
    return join(this.options.dir, name);
  }
}
