/**
 * Loading a checkpoint at open (single-threaded; the parallel loader
 * replaces it): the schema catalog of the root, then every CFP holding rows
 * — its delta file read first into a set of deleted versionIds, then its
 * data file up to the valid length, each entry not in the set installed
 * with its logged versionId. Every block is checked; a file the root names
 * that is missing or shorter than its valid length is CORRUPT naming it.
 */
import { join } from 'node:path';
import { ErrorCode, TidemarkError } from '../errors.js';
import { BLOCK_HEADER_BYTES, readBlock } from '../files/block.js';
import { decodeFileHeader, FILE_HEADER_BYTES } from '../files/file_header.js';
import { readAll, type FileLayer } from '../files/file_layer.js';
import type { RecordVisitor } from '../log/record.js';
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
  holdsRows,
  parseCfpFileName,
} from './cfp_format.js';
import type { CfpEntry, RootBody } from './root_format.js';

export interface CheckpointLoad {
  cfps: number;
  /** Row versions installed, and those skipped because their delta file deletes them. */
  rows: number;
  skipped: number;
  bytes: number;
}

/** Installs the checkpoint's tables and rows through `visitor` (the replayer). */
export function loadCheckpoint(layer: FileLayer, dir: string, root: RootBody, visitor: RecordVisitor): CheckpointLoad {
  root.catalog.forEach((definition, tableId) => visitor.createTable(tableId, definition));
  const load: CheckpointLoad = { cfps: 0, rows: 0, skipped: 0, bytes: 0 };
  const databaseId = BigInt(root.databaseId);
  for (const cfp of root.cfps) {
    if (!holdsRows(cfp.state)) continue;
    const deleted = readDelta(layer, dir, cfp, databaseId);
    const data = readValid(layer, join(dir, dataFileName(cfp.id)), cfp.dataLength, 'data');
    checkHeader(data, DATA_MAGIC, cfp, databaseId, join(dir, dataFileName(cfp.id)), 'data file');
    let rows = 0;
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    forEachBlock(data, DATA_BLOCK_MAGIC, join(dir, dataFileName(cfp.id)), 'data file', (payloadAt, payloadEnd, count, where) => {
      let at = payloadAt;
      for (let i = 0; i < count; i++) {
        if (at + DATA_ENTRY_HEADER_BYTES > payloadEnd) throw where(`entry ${i} runs past its block`, at);
        const tableId = view.getUint16(at, true);
        const length = view.getUint32(at + 4, true);
        const versionId = view.getFloat64(at + 8, true);
        const size = dataEntryBytes(length);
        if (at + size > payloadEnd) throw where(`entry ${i} runs past its block`, at);
        if (versionId < cfp.minVersion || (cfp.maxVersion !== null && versionId > cfp.maxVersion)) {
          throw where(`entry ${i} has version ${versionId}, outside the pair's range`, at);
        }
        if (deleted.has(versionId)) load.skipped++;
        else {
          visitor.insert(tableId, versionId, data, at + DATA_ENTRY_HEADER_BYTES, length);
          load.rows++;
        }
        rows++;
        at += size;
      }
      if (at !== payloadEnd) throw where('has bytes after its last entry', at);
    });
    if (rows !== cfp.rows) throw corrupt(join(dir, dataFileName(cfp.id)), `holds ${rows} rows, the root says ${cfp.rows}`, cfp.dataLength);
    load.cfps++;
    load.bytes += cfp.dataLength + cfp.deltaLength;
  }
  return load;
}

/** The versionIds a CFP's delta file deletes, checked block by block. */
export function readDelta(layer: FileLayer, dir: string, cfp: CfpEntry, databaseId: bigint): Set<number> {
  const path = join(dir, deltaFileName(cfp.id));
  const bytes = readValid(layer, path, cfp.deltaLength, 'delta');
  checkHeader(bytes, DELTA_MAGIC, cfp, databaseId, path, 'delta file');
  const deleted = new Set<number>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  forEachBlock(bytes, DELTA_BLOCK_MAGIC, path, 'delta file', (payloadAt, payloadEnd, count, where) => {
    if (payloadEnd - payloadAt !== count * DELTA_ENTRY_BYTES) throw where(`holds ${payloadEnd - payloadAt} bytes for ${count} tombstones`, payloadAt);
    for (let at = payloadAt; at < payloadEnd; at += DELTA_ENTRY_BYTES) deleted.add(view.getFloat64(at, true));
  });
  if (deleted.size !== cfp.tombstones) throw corrupt(path, `holds ${deleted.size} tombstones, the root says ${cfp.tombstones}`, cfp.deltaLength);
  return deleted;
}

/**
 * Removes CFP files no root can name (ids at or past the root's nextFileId:
 * made after the last checkpoint) and leftover temp files. Returns their names.
 */
export function removeLeftovers(layer: FileLayer, dir: string, root: RootBody | null): string[] {
  const removed: string[] = [];
  const nextFileId = root?.nextFileId ?? 1;
  for (const name of layer.list(dir)) {
    const cfp = parseCfpFileName(name);
    if ((cfp !== null && cfp.id >= nextFileId) || /^(data|delta|root)-[0-9a-f]{16}\.tmp$/.test(name)) {
      layer.unlink(join(dir, name));
      removed.push(name);
    }
  }
  if (removed.length > 0) layer.fsyncDir(dir);
  return removed;
}

type Where = (what: string, at: number) => TidemarkError;

function forEachBlock(
  bytes: Uint8Array,
  magic: number,
  path: string,
  kind: string,
  onBlock: (payloadAt: number, payloadEnd: number, count: number, where: Where) => void,
): void {
  let at = FILE_HEADER_BYTES;
  while (at < bytes.length) {
    const block = readBlock(bytes, at, bytes.length, magic);
    if (block === null) throw corrupt(path, `${kind} block fails its checks`, at);
    const blockAt = at;
    const where: Where = (what, offset) => corrupt(path, `${kind} block at offset ${blockAt}: ${what}`, offset);
    onBlock(at + BLOCK_HEADER_BYTES, at + BLOCK_HEADER_BYTES + block.payloadBytes, block.count, where);
    at += (BLOCK_HEADER_BYTES + block.payloadBytes + 7) & ~7;
  }
  if (at !== bytes.length) throw corrupt(path, `${kind} blocks end at ${at}, past the valid length`, bytes.length);
}

/** The first `length` bytes of a file the root names; CORRUPT if it is missing or shorter. */
function readValid(layer: FileLayer, path: string, length: number, kind: string): Uint8Array {
  if (!layer.exists(path)) throw new TidemarkError(ErrorCode.CORRUPT, `${path}: the ${kind} file named by the root is missing`);
  const size = layer.size(path);
  if (size < length) throw corrupt(path, `${kind} file is ${size} bytes, shorter than its valid length ${length}`, size);
  const bytes = new Uint8Array(length);
  const fd = layer.open(path, false);
  try {
    if (readAll(layer, fd, bytes, 0, length, 0) !== length) throw corrupt(path, `${kind} file could not be read to its valid length ${length}`, 0);
  } finally {
    layer.close(fd);
  }
  return bytes;
}

function checkHeader(bytes: Uint8Array, magic: string, cfp: CfpEntry, databaseId: bigint, path: string, what: string): void {
  const h = decodeFileHeader(bytes, magic, CFP_FORMAT_VERSION, path, what);
  if (h.id !== cfp.id) throw corrupt(path, `${what} header names pair ${h.id}, the root ${cfp.id}`, 16);
  if (h.databaseId !== databaseId) throw corrupt(path, `${what} belongs to another database (id ${h.databaseId})`, 24);
}

function corrupt(path: string, what: string, offset: number): TidemarkError {
  return new TidemarkError(ErrorCode.CORRUPT, `${path}: ${what} (offset ${offset})`);
}
