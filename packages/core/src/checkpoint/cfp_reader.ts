/**
 * Reading a checkpoint file pair back, as recovery does: the delta file
 * first, into a filter of deleted versionIds (deleted_versions.ts), then one pass over the
 * data file up to its valid length, a few MiB at a time, that hands every
 * entry the delta file does not delete to `onRow`.
 *
 * Everything is checked on the way: file headers, every block's checksum,
 * entries inside their blocks, versionIds strictly rising and inside the
 * pair's range, row and tombstone counts against the root, and every
 * tombstone matching a row of its data file (a tombstone that matches
 * nothing means the delta file or the data file is not what the root
 * wrote). A failure is CORRUPT naming the file and the offset.
 */
import { join } from 'node:path';
import { MAX_ROW_BYTES } from '../constants.js';
import { ErrorCode, TidemarkError } from '../errors.js';
import { alignBlock, BLOCK_HEADER_BYTES, readBlock } from '../files/block.js';
import { decodeFileHeader, FILE_HEADER_BYTES, type FileHeader } from '../files/file_header.js';
import { readAll, type FileLayer } from '../files/file_layer.js';
import {
  CFP_FORMAT_VERSION,
  DATA_BLOCK_MAGIC,
  DATA_ENTRY_HEADER_BYTES,
  DATA_MAGIC,
  dataEntryBytes,
  dataFileName,
  DELTA_BLOCK_MAGIC,
  DELTA_ENTRY_BYTES,
  DELTA_MAGIC,
  deltaFileName,
} from './cfp_format.js';
import { DELETED, DeletedVersions, ORPHAN } from './deleted_versions.js';
import type { CfpEntry } from './root_format.js';

/** Bytes read from a file at a time (a block larger than this grows the buffer). */
export const READ_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Called for each live row: its data entry is `bytes[entryAt, entryAt + size)`
 * (payload from entryAt + 16), valid until `onBlockEnd` is called. `dataOffset`
 * is how far into the data file the reader has got (for progress).
 */
export interface LiveRowVisitor {
  row(
    tableId: number,
    versionId: number,
    bytes: Uint8Array,
    view: DataView,
    entryAt: number,
    size: number,
    dataOffset: number,
  ): void;
  /** The block's bytes are about to be replaced. */
  blockEnd(): void;
}

export interface CfpScan {
  /** Entries of the data file, those handed on, and those the delta file deletes. */
  rows: number;
  live: number;
  skipped: number;
  /** Bytes read from both files, and the time spent in the read calls (the scan's I/O part). */
  bytes: number;
  readMs: number;
}

/** Scans one CFP: its delta file, then its data file, calling `onRow` for each live row. */
export function scanCfp(
  layer: FileLayer,
  dir: string,
  cfp: CfpEntry,
  databaseId: bigint,
  onRow: LiveRowVisitor,
): CfpScan {
  const deltaReads: ReadTime = { readMs: 0 };
  const scan = scanData(layer, dir, cfp, databaseId, readDelta(layer, dir, cfp, databaseId, deltaReads), onRow);
  scan.readMs += deltaReads.readMs;
  return scan;
}

/** Where a reader adds the time its read calls took. */
export interface ReadTime {
  readMs: number;
}

/**
 * Scans a CFP's data file with the delta file's versionIds already read
 * (`deleted`); null checks the data file alone (verify does, when the
 * delta file fails), every entry then handed on as live.
 */
export function scanData(
  layer: FileLayer,
  dir: string,
  cfp: CfpEntry,
  databaseId: bigint,
  deletedOrNull: DeletedVersions | null,
  onRow: LiveRowVisitor,
): CfpScan {
  const scan = new DataScan(layer, dir, cfp, databaseId, deletedOrNull, onRow);
  try {
    while (scan.step());
  } finally {
    scan.close();
  }
  return scan.scan;
}

/**
 * A scan of a CFP's data file a block at a time, so that a caller can do
 * other work between blocks (the main thread links the workers' batches
 * between the blocks of the pair it loads itself). step() until it returns
 * false; close() in any case (it is idempotent).
 */
export class DataScan {
  readonly scan: CfpScan;
  private readonly deleted: DeletedVersions;
  private readonly path: string;
  private readonly reader: BlockReader;
  private previous = -1;
  private open = true;

  constructor(
    layer: FileLayer,
    private readonly dir: string,
    private readonly cfp: CfpEntry,
    databaseId: bigint,
    deletedOrNull: DeletedVersions | null,
    private readonly onRow: LiveRowVisitor,
  ) {
    this.deleted = deletedOrNull ?? DeletedVersions.none();
    this.path = join(dir, dataFileName(cfp.id));
    this.reader = new BlockReader(layer, this.path, cfp.dataLength, DATA_MAGIC, DATA_BLOCK_MAGIC, 'data file');
    this.scan = { rows: 0, live: 0, skipped: 0, bytes: cfp.dataLength + cfp.deltaLength, readMs: 0 };
    try {
      checkIdentity(this.reader.header, cfp, databaseId, this.path, 'data file');
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Scans the next block; false once the file is done and its counts checked. A failure closes the file. */
  step(): boolean {
    try {
      const block = this.reader.next();
      if (block === null) {
        this.finish();
        return false;
      }
      this.scanBlock(block);
      return true;
    } catch (error) {
      this.close();
      throw error;
    }
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.reader.close();
    this.scan.readMs = this.reader.readMs;
  }

  private scanBlock(block: BlockAt): void {
    const { bytes, view } = this.reader;
    const { cfp, path, deleted, onRow, scan } = this;
    const payloadEnd = block.payloadAt + block.payloadBytes;
    let at = block.payloadAt;
    let previous = this.previous;
    const where = (i: number, entryAt: number, what: string): TidemarkError =>
      corrupt(
        path,
        `data file block at offset ${block.fileOffset}: entry ${i} ${what}`,
        block.fileOffset + entryAt - block.at,
      );
    for (let i = 0; i < block.count; i++) {
      if (at + DATA_ENTRY_HEADER_BYTES > payloadEnd) throw where(i, at, 'runs past its block');
      const tableId = view.getUint16(at, true);
      const length = view.getUint32(at + 4, true);
      const versionId = view.getFloat64(at + 8, true);
      const size = dataEntryBytes(length);
      if (length > MAX_ROW_BYTES || at + size > payloadEnd) throw where(i, at, 'runs past its block');
      if (!(versionId > previous))
        throw where(i, at, `has version ${versionId}, not above the one before (${previous})`);
      if (versionId < cfp.minVersion || (cfp.maxVersion !== null && versionId > cfp.maxVersion))
        throw where(i, at, `has version ${versionId}, outside the pair's range`);
      previous = versionId;
      const taken = deleted.take(versionId);
      if (taken === ORPHAN) throw orphanTombstone(this.dir, cfp, deleted.orphan);
      if (taken === DELETED) {
        scan.skipped++;
      } else {
        onRow.row(tableId, versionId, bytes, view, at, size, block.fileOffset + block.size);
        scan.live++;
      }
      scan.rows++;
      at += size;
    }
    this.previous = previous;
    if (at !== payloadEnd)
      throw corrupt(
        path,
        `data file block at offset ${block.fileOffset} has bytes after its last entry`,
        block.fileOffset + at - block.at,
      );
    onRow.blockEnd();
  }

  private finish(): void {
    this.close();
    const { cfp, scan } = this;
    if (scan.rows !== cfp.rows)
      throw corrupt(this.path, `holds ${scan.rows} rows, the root says ${cfp.rows}`, cfp.dataLength);
    if (this.deleted.left()) throw orphanTombstone(this.dir, cfp, this.deleted.orphan);
  }
}

/** The versionIds a CFP's delta file deletes, checked block by block, as a filter; a versionId twice is CORRUPT. */
export function readDelta(
  layer: FileLayer,
  dir: string,
  cfp: CfpEntry,
  databaseId: bigint,
  reads?: ReadTime,
): DeletedVersions {
  const path = join(dir, deltaFileName(cfp.id));
  // The reader first: it checks the file holds the valid length, which (the root checks) bounds the count.
  const reader = new BlockReader(layer, path, cfp.deltaLength, DELTA_MAGIC, DELTA_BLOCK_MAGIC, 'delta file');
  let deleted: Float64Array;
  let count = 0;
  try {
    if (cfp.tombstones * DELTA_ENTRY_BYTES > cfp.deltaLength)
      throw corrupt(path, `cannot hold the root's ${cfp.tombstones} tombstones in ${cfp.deltaLength} bytes`, 0);
    deleted = new Float64Array(cfp.tombstones);
    checkIdentity(reader.header, cfp, databaseId, path, 'delta file');
    for (let block = reader.next(); block !== null; block = reader.next()) {
      if (block.payloadBytes !== block.count * DELTA_ENTRY_BYTES) {
        throw corrupt(
          path,
          `delta file block at offset ${block.fileOffset} holds ${block.payloadBytes} bytes for ${block.count} tombstones`,
          block.fileOffset,
        );
      }
      if (count + block.count > deleted.length)
        throw corrupt(path, `holds more tombstones than the root's ${cfp.tombstones}`, block.fileOffset);
      for (let at = block.payloadAt, end = at + block.payloadBytes; at < end; at += DELTA_ENTRY_BYTES)
        deleted[count++] = reader.view.getFloat64(at, true);
    }
  } finally {
    reader.close();
    if (reads !== undefined) reads.readMs += reader.readMs;
  }
  if (count !== cfp.tombstones)
    throw corrupt(path, `holds ${count} tombstones, the root says ${cfp.tombstones}`, cfp.deltaLength);
  const filter = DeletedVersions.build(deleted, cfp.minVersion);
  if ('twice' in filter) throw corrupt(path, `deletes version ${filter.twice} twice`, cfp.deltaLength);
  if ('invalid' in filter) throw corrupt(path, `deletes ${filter.invalid}, which is not a versionId`, cfp.deltaLength);
  return filter;
}

function orphanTombstone(dir: string, cfp: CfpEntry, versionId: number): TidemarkError {
  return corrupt(
    join(dir, deltaFileName(cfp.id)),
    `deletes version ${versionId}, which ${dataFileName(cfp.id)} does not hold`,
    cfp.deltaLength,
  );
}

/** One block as BlockReader.next() returns it: positions in `reader.bytes`, and where it sits in the file. */
export interface BlockAt {
  /** Offset of the block in the reader's buffer, and of its payload. */
  at: number;
  payloadAt: number;
  payloadBytes: number;
  count: number;
  /** Offset of the block in the file, and its size with padding. */
  fileOffset: number;
  size: number;
}

/**
 * Reads the checksummed blocks of a file in order up to its valid length,
 * READ_CHUNK_BYTES at a time. A block's bytes stay valid until the next call.
 * The file must exist and be at least the valid length; CORRUPT otherwise.
 */
export class BlockReader {
  bytes: Uint8Array;
  view: DataView;
  /** The file header (checked for magic, version and checksum). */
  readonly header: FileHeader;
  /** Time spent in the read calls so far. */
  readMs = 0;
  private readonly fd: number;
  /** File offset of bytes[0], bytes held, and the file offset of the next block. */
  private start = 0;
  private held = 0;
  private position = FILE_HEADER_BYTES;

  constructor(
    private readonly layer: FileLayer,
    private readonly path: string,
    private readonly validLength: number,
    magic: string,
    private readonly blockMagic: number,
    private readonly kind: string,
  ) {
    if (!layer.exists(path))
      throw new TidemarkError(ErrorCode.CORRUPT, `${path}: the ${kind} named by the root is missing`);
    const size = layer.size(path);
    if (size < validLength)
      throw corrupt(path, `${kind} is ${size} bytes, shorter than its valid length ${validLength}`, size);
    if (validLength < FILE_HEADER_BYTES)
      throw corrupt(path, `${kind} valid length ${validLength} is shorter than a file header`, 0);
    this.bytes = new Uint8Array(Math.min(READ_CHUNK_BYTES, validLength));
    this.view = new DataView(this.bytes.buffer);
    this.fd = layer.open(path, false);
    try {
      this.ensure(0, FILE_HEADER_BYTES);
      this.header = decodeFileHeader(this.bytes, magic, CFP_FORMAT_VERSION, path, kind);
    } catch (error) {
      layer.close(this.fd);
      throw error;
    }
  }

  /** The next block, or null at the valid length. */
  next(): BlockAt | null {
    const fileOffset = this.position;
    if (fileOffset === this.validLength) return null;
    if (fileOffset + BLOCK_HEADER_BYTES > this.validLength)
      throw corrupt(this.path, `${this.kind} ends inside a block header`, fileOffset);
    this.ensure(fileOffset, BLOCK_HEADER_BYTES);
    const payloadBytes = this.view.getUint32(fileOffset - this.start + 4, true);
    const size = alignBlock(BLOCK_HEADER_BYTES + payloadBytes);
    if (size > this.validLength - fileOffset)
      throw corrupt(this.path, `${this.kind} block runs past the valid length ${this.validLength}`, fileOffset);
    this.ensure(fileOffset, size);
    const at = fileOffset - this.start;
    const block = readBlock(this.bytes, at, at + size, this.blockMagic);
    if (block === null) throw corrupt(this.path, `${this.kind} block fails its checks`, fileOffset);
    this.position = fileOffset + size;
    return { at, payloadAt: at + BLOCK_HEADER_BYTES, payloadBytes, count: block.count, fileOffset, size };
  }

  close(): void {
    this.layer.close(this.fd);
  }

  /** Makes file bytes [from, from + length) present in the buffer, reading ahead up to a chunk. */
  private ensure(from: number, length: number): void {
    if (from >= this.start && from + length <= this.start + this.held) return;
    if (length > this.bytes.length) {
      this.bytes = new Uint8Array(Math.max(length, READ_CHUNK_BYTES));
      this.view = new DataView(this.bytes.buffer);
      this.held = 0;
    }
    // Keep what is already held from `from` on, then read the rest of a chunk after it.
    const keep = from >= this.start && from < this.start + this.held ? this.start + this.held - from : 0;
    if (keep > 0) this.bytes.copyWithin(0, from - this.start, from - this.start + keep);
    this.start = from;
    const want = Math.min(this.bytes.length, this.validLength - from) - keep;
    const started = performance.now();
    const got = readAll(this.layer, this.fd, this.bytes, keep, want, from + keep);
    this.readMs += performance.now() - started;
    this.held = keep + got;
    if (this.held < length)
      throw corrupt(
        this.path,
        `${this.kind} could not be read to its valid length ${this.validLength}`,
        from + this.held,
      );
  }
}

function checkIdentity(h: FileHeader, cfp: CfpEntry, databaseId: bigint, path: string, what: string): void {
  if (h.id !== cfp.id) throw corrupt(path, `${what} header names pair ${h.id}, the root ${cfp.id}`, 16);
  if (h.databaseId !== databaseId) throw corrupt(path, `${what} belongs to another database (id ${h.databaseId})`, 24);
}

export function corrupt(path: string, what: string, offset: number): TidemarkError {
  return new TidemarkError(ErrorCode.CORRUPT, `${path}: ${what} (offset ${offset})`);
}
