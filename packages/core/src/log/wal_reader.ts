/**
 * Replays the WAL of a directory: every batch of every segment in order,
 * each record handed to `onRecord`. Recovery decisions:
 *
 *   what is found after the last good batch          decision
 *   ---------------------------------------------    -------------------------------------------
 *   zeros (the pre-allocated end of a segment)        end of that segment's data; next segment
 *   a batch whose commitTs is not newer than the      stale bytes from before; end of that segment
 *     last replayed (valid checksum)
 *   a bad batch, and no valid newer batch anywhere    torn tail (a crash mid-write): cut there,
 *     after it                                          reported in the result
 *   a bad batch followed by a valid newer batch       corruption: CORRUPT naming file and offset
 *   a segment header that fails its checks            corruption: CORRUPT naming the file
 *   a gap in segment numbers, another database's id   corruption: CORRUPT naming the file
 */
import { join } from 'node:path';
import { ErrorCode, TidemarkError } from '../errors.js';
import { readFile, type FileLayer } from '../files/file_layer.js';
import {
  alignBatch,
  allZero,
  BATCH_HEADER_BYTES,
  BATCH_ALIGN_BYTES,
  decodeSegmentHeader,
  readBatch,
  SEGMENT_HEADER_BYTES,
  segmentName,
  segmentSeq,
} from './wal_format.js';

export interface WalPosition {
  /** Segment to continue writing in, and the byte offset there. -1: no segment exists yet. */
  seq: number;
  offset: number;
  databaseId: bigint | null;
  /** The newest commitTs replayed (0 if none). */
  lastCommitTs: number;
  /** Where a torn tail was cut, if one was. */
  tornTail: { file: string; offset: number } | null;
  /** After a cut: the segment holds non-zero bytes up to here; the writer zeroes them before appending. */
  dirtyUntil: number;
  segments: number;
  bytesReplayed: number;
}

export type RecordCallback = (bytes: Uint8Array, offset: number, length: number, where: () => string) => void;

export function listSegments(layer: FileLayer, dir: string): number[] {
  return layer
    .list(dir)
    .map(segmentSeq)
    .filter((seq) => seq >= 0)
    .sort((a, b) => a - b);
}

/** Where replay starts: the checkpoint's WAL position; records at or below `afterTs` are in the checkpoint. */
export interface WalStart {
  seq: number;
  offset: number;
  afterTs: number;
  databaseId: bigint;
}

/**
 * Replays from `start` (a checkpoint's position; segments before it are
 * free and ignored) or, without one, from segment 0, which must then exist
 * if any segment does.
 */
export function replayWal(layer: FileLayer, dir: string, onRecord: RecordCallback, start: WalStart | null = null): WalPosition {
  const first = start?.seq ?? 0;
  const seqs = listSegments(layer, dir).filter((seq) => seq >= first);
  const files = seqs.map((seq) => ({ seq, path: join(dir, segmentName(seq)) }));
  const position: WalPosition = {
    seq: -1,
    offset: 0,
    databaseId: start?.databaseId ?? null,
    lastCommitTs: start?.afterTs ?? 0,
    tornTail: null,
    dirtyUntil: 0,
    segments: seqs.length,
    bytesReplayed: 0,
  };
  if (files.length > 0 && files[0]!.seq !== first) {
    const why = start === null ? 'no root file covers the segments before it' : `the root file needs segment ${first}, which is missing`;
    throw new TidemarkError(ErrorCode.CORRUPT, `${files[0]!.path}: the WAL starts at segment ${files[0]!.seq}; ${why}`);
  }
  if (files.length === 0 && start !== null && start.offset > SEGMENT_HEADER_BYTES) {
    throw new TidemarkError(ErrorCode.CORRUPT, `${join(dir, segmentName(first))}: the WAL segment the root file needs is missing`);
  }
  let contents = files.map(() => null as Uint8Array | null);
  const load = (i: number): Uint8Array => (contents[i] ??= readFile(layer, files[i]!.path));
  for (let i = 0; i < files.length; i++) {
    const { seq, path } = files[i]!;
    if (i > 0 && seq !== files[i - 1]!.seq + 1) {
      throw new TidemarkError(ErrorCode.CORRUPT, `${path}: WAL segment ${files[i - 1]!.seq + 1} is missing before it`);
    }
    const bytes = load(i);
    const header = decodeSegmentHeader(bytes, path);
    if (header.seq !== seq) throw new TidemarkError(ErrorCode.CORRUPT, `${path}: header names segment ${header.seq}`);
    position.databaseId ??= header.databaseId;
    if (header.databaseId !== position.databaseId) {
      throw new TidemarkError(ErrorCode.CORRUPT, `${path}: belongs to another database (id ${header.databaseId})`);
    }
    const end = replaySegment(bytes, path, position, onRecord, i === 0 && start !== null ? start.offset : SEGMENT_HEADER_BYTES);
    position.seq = seq;
    position.offset = end.offset;
    if (end.bad) {
      const last = position.lastCommitTs;
      const newerHere = findNewerBatch(bytes, end.offset + BATCH_ALIGN_BYTES, last) !== null;
      const newerLater = files.slice(i + 1).some((_, k) => findNewerBatch(load(i + 1 + k), SEGMENT_HEADER_BYTES, last) !== null);
      if (newerHere || newerLater) {
        throw new TidemarkError(ErrorCode.CORRUPT, `${path}: bad WAL batch at offset ${end.offset}, followed by valid newer batches`);
      }
      position.tornTail = { file: path, offset: end.offset };
      let dirty = bytes.length;
      while (dirty > end.offset && bytes[dirty - 1] === 0) dirty--;
      position.dirtyUntil = dirty;
      break;
    }
    contents[i] = null; // keep one segment in memory at a time
  }
  contents = [];
  return position;
}

function replaySegment(bytes: Uint8Array, path: string, position: WalPosition, onRecord: RecordCallback, from: number): { offset: number; bad: boolean } {
  let at = from;
  for (;;) {
    if (at + BATCH_HEADER_BYTES > bytes.length || allZero(bytes, at, at + BATCH_HEADER_BYTES)) return { offset: at, bad: false };
    const batch = readBatch(bytes, at, bytes.length);
    if (batch === null) return { offset: at, bad: true };
    if (batch.first <= position.lastCommitTs) return { offset: at, bad: false }; // stale bytes from an earlier use
    let r = at + BATCH_HEADER_BYTES;
    const payloadEnd = r + batch.payloadBytes;
    const batchAt = at;
    for (let k = 0; k < batch.count; k++) {
      const length = r + 4 <= payloadEnd ? new DataView(bytes.buffer, bytes.byteOffset).getUint32(r, true) : -1;
      if (length < 0 || length > payloadEnd - r - 4) {
        throw new TidemarkError(ErrorCode.CORRUPT, `${path}: record ${k} of the batch at offset ${batchAt} overruns the batch`);
      }
      onRecord(bytes, r + 4, length, () => `${path}: batch at offset ${batchAt}, record ${k}`);
      r += 4 + length;
    }
    position.lastCommitTs = batch.last;
    position.bytesReplayed += alignBatch(BATCH_HEADER_BYTES + batch.payloadBytes);
    at += alignBatch(BATCH_HEADER_BYTES + batch.payloadBytes);
  }
}

/** The offset of a valid batch newer than `after` at or past `from`, or null. */
function findNewerBatch(bytes: Uint8Array, from: number, after: number): number | null {
  for (let at = from; at + BATCH_HEADER_BYTES <= bytes.length; at += BATCH_ALIGN_BYTES) {
    const batch = readBatch(bytes, at, bytes.length);
    if (batch !== null && batch.first > after) return at;
  }
  return null;
}
