/**
 * The pieces of verify.ts that keep no state: the names the engine makes
 * and their kinds, reading the file and offset out of a reader's message,
 * a segment header check, the content digest, and a replay visitor that
 * decodes every row it applies.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { parseCfpFileName } from './checkpoint/cfp_format.js';
import { rootSeq } from './checkpoint/root_format.js';
import { ErrorCode, TidemarkError } from './errors.js';
import { readAll, type FileLayer } from './files/file_layer.js';
import { parseLockLine } from './files/lock.js';
import { decodeSegmentHeader, segmentName, segmentSeq } from './log/wal_format.js';
import type { RecordVisitor } from './log/record.js';
import type { Replayer } from './log/replay.js';
import type { Engine } from './txn/engine.js';
import type { VerifiedFileKind, VerifyCode } from './verify_report.js';

export const LOCK_NAME = 'LOCK';
/** Temp names the engine writes under before a rename (roots, pairs, segments, the spare segment; LOCK in earlier versions, whose LOCK.tmp open() removes). */
export const TEMP_PATTERN = /^((root|data|delta|wal)-[0-9a-f]{16}|LOCK|wal-spare)\.tmp$/;

/**
 * What verify says of a LOCK's bytes. Only the operating system's lock says
 * whether the database is open (files/lock.ts): the line is a name, so a
 * LOCK is a warning, or LOCK_MALFORMED when it is not a line the engine
 * writes (empty is: an open between creating the file and writing it).
 */
export function lockFinding(text: string): { code: 'LOCK_PRESENT' | 'LOCK_MALFORMED'; message: string } {
  const opened = 'the database is open, or its last owner ended without closing it (open() takes the LOCK over)';
  if (text === '')
    return { code: 'LOCK_PRESENT', message: `${LOCK_NAME} is empty: an open was taking it, or ${opened}` };
  const owner = parseLockLine(text);
  if (owner === null)
    return {
      code: 'LOCK_MALFORMED',
      message: `${LOCK_NAME} does not hold "<pid> <start time> <host>" as the engine writes it`,
    };
  return {
    code: 'LOCK_PRESENT',
    message: `${LOCK_NAME} names process ${owner.pid}${owner.host === '' ? '' : ` on ${owner.host}`}: ${opened}`,
  };
}

/** Wraps the replayer so every inserted row is decoded through its table's schema before it is applied. */
export function decodingVisitor(engine: Engine, replayer: Replayer): RecordVisitor {
  return {
    commit: () => replayer.commit(),
    createTable: (tableId, definition) => replayer.createTable(tableId, definition),
    changeTable: (tableId, definition) => replayer.changeTable(tableId, definition),
    insert: (tableId, versionId, bytes, offset, length) => {
      const table = engine.tables[tableId];
      if (table !== undefined && !table.dropped) {
        try {
          table.codec.decode(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset, length);
        } catch (error) {
          throw new TidemarkError(
            ErrorCode.CORRUPT,
            `${replayer.where()}: the row of version ${versionId} does not decode as a row of "${table.name}": ${messageOf(error)}`,
          );
        }
      }
      replayer.insert(tableId, versionId, bytes, offset, length);
    },
    delete: (tableId, versionId, key, offset, length) => replayer.delete(tableId, versionId, key, offset, length),
    end: (commitTs) => replayer.end(commitTs),
  };
}

/** The digest of VerifyReport.digest. */
export function contentDigest(engine: Engine): string {
  const hash = createHash('sha256');
  const json = (_key: string, value: unknown): unknown =>
    typeof value === 'bigint' ? `${value}n` : value instanceof Uint8Array ? [...value] : value;
  for (const table of engine.tables) {
    if (table.dropped) continue;
    const rows: string[] = [];
    table.primary.forEach((ptr) => {
      if (!table.arena.isDeleted(ptr)) rows.push(JSON.stringify(table.read(ptr), json));
    });
    hash.update(`${table.name}:${rows.sort().join('\n')}\n`);
  }
  return hash.digest('hex');
}

export function checkSegmentHeader(layer: FileLayer, dir: string, seq: number): void {
  const path = join(dir, segmentName(seq));
  const fd = layer.open(path, false);
  const bytes = new Uint8Array(64);
  try {
    const header = decodeSegmentHeader(bytes.subarray(0, readAll(layer, fd, bytes, 0, bytes.length, 0)), path);
    if (header.seq !== seq)
      throw new TidemarkError(ErrorCode.CORRUPT, `${path}: header names segment ${header.seq} (offset 16)`);
  } finally {
    layer.close(fd);
  }
}

export function kindOf(file: string): VerifiedFileKind {
  if (file === LOCK_NAME) return 'lock';
  if (rootSeq(file) >= 0) return 'root';
  if (segmentSeq(file) >= 0) return 'wal';
  const cfp = parseCfpFileName(file);
  if (cfp !== null) return cfp.kind;
  return TEMP_PATTERN.test(file) ? 'temp' : 'unknown';
}

const FILE_NAME = /(?:^|[/\\])((?:root|data|delta|wal)-[0-9a-f]{16}|LOCK)(?=[:\s,)]|$)/;

/** The first database file a message names (messages begin with the path they are about). */
export function firstFileNamed(message: string): string | null {
  return FILE_NAME.exec(message)?.[1] ?? null;
}

export function fileNamed(path: string): string {
  return firstFileNamed(path) ?? path;
}

/** The last "offset N" of a message: the most precise position it gives. */
export function offsetIn(error: unknown): number | null {
  const all = [...messageOf(error).matchAll(/offset (\d+)/g)];
  return all.length === 0 ? null : Number(all[all.length - 1]![1]);
}

export function missingCode(message: string): VerifyCode | null {
  return /is missing/.test(message) ? 'FILE_MISSING' : null;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
