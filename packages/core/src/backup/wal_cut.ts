/**
 * Cutting a copied WAL at a commit: the log of a backup or a restore keeps
 * every batch up to commitTs `upTo` (a batch that straddles it is rewritten
 * to the records at or below it) and nothing after: the rest of that segment
 * is zeroed (a seal included) and later segments are removed, so the copy
 * ends as a log a crash could have left and the next writer goes on in it
 * (docs/FORMAT.md, "WAL segment"). A bad batch ends the log there too (the
 * owner was writing it when the segment was copied).
 */
import { join } from 'node:path';
import { readFile, writeAll, type FileLayer } from '../files/file_layer.js';
import { listSegments, type WalStart } from '../log/wal_reader.js';
import {
  alignBatch,
  allZero,
  batchTimeBytes,
  BATCH_HEADER_BYTES,
  decodeSegmentHeader,
  readBatch,
  readSeal,
  SEAL_MAGIC,
  sealBatch,
  SEGMENT_HEADER_BYTES,
  segmentName,
} from '../log/wal_format.js';

/** Offset of a record's commitTs in its body (after u8 type, u8 version, u16 0). */
const COMMIT_TS_AT = 4;

/**
 * Where to cut: after the last commit at or below a commitTs, or after the
 * last batch written at or before a wall-clock time (ms since the epoch;
 * batches of segments older than version 3 carry no time and are kept).
 */
export type CutPoint = { commitTs: number } | { time: number };

/** Cuts the WAL of `dir` at `until`; returns the newest commitTs it keeps. */
export function cutWal(layer: FileLayer, dir: string, start: WalStart | null, until: CutPoint): number {
  const upTo = 'commitTs' in until ? until.commitTs : Number.POSITIVE_INFINITY;
  const upToTime = 'time' in until ? until.time : Number.POSITIVE_INFINITY;
  const seqs = listSegments(layer, dir).filter((seq) => seq >= (start?.seq ?? 0));
  let lastTs = start?.afterTs ?? 0;
  for (let i = 0; i < seqs.length; i++) {
    const seq = seqs[i]!;
    const path = join(dir, segmentName(seq));
    const bytes = readFile(layer, path);
    const version = decodeSegmentHeader(bytes, path).version;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = i === 0 && start !== null ? start.offset : SEGMENT_HEADER_BYTES;
    let moveOn = false;
    let rewritten = -1;
    for (;;) {
      if (at + BATCH_HEADER_BYTES > bytes.length || allZero(bytes, at, at + BATCH_HEADER_BYTES)) {
        moveOn = version === 1 && seqs[i + 1] === seq + 1; // a version 1 segment has no seal
        break;
      }
      if (view.getUint32(at, true) === SEAL_MAGIC && readSeal(bytes, at, bytes.length, seq) !== null) {
        moveOn = seqs[i + 1] === seq + 1;
        break;
      }
      const batch = readBatch(bytes, at, bytes.length);
      if (batch === null || batch.first <= lastTs || batch.first > upTo) break;
      if (batchTimeBytes(version) > 0 && view.getFloat64(at + BATCH_HEADER_BYTES, true) > upToTime) break;
      const kept = keptRecords(view, at, batchTimeBytes(version), batch.count, upTo);
      if (kept.count < batch.count) {
        rewritten = at;
        at += sealBatch(bytes, at, kept.payloadBytes, kept.count, batch.first, kept.lastTs);
        lastTs = kept.lastTs;
        break;
      }
      at += alignBatch(BATCH_HEADER_BYTES + batch.payloadBytes);
      lastTs = batch.last;
    }
    if (moveOn) continue;
    endSegmentAt(layer, path, bytes, rewritten < 0 ? at : rewritten, at);
    for (const later of seqs.slice(i + 1)) layer.unlink(join(dir, segmentName(later)));
    layer.fsyncDir(dir);
    return lastTs;
  }
  return lastTs;
}

/** The records of the batch at `at` whose commitTs is at most `upTo`: their count, payload bytes and last commitTs. */
function keptRecords(
  view: DataView,
  at: number,
  timeBytes: number,
  count: number,
  upTo: number,
): { count: number; payloadBytes: number; lastTs: number } {
  let r = at + BATCH_HEADER_BYTES + timeBytes;
  let kept = 0;
  let lastTs = 0;
  for (; kept < count; kept++) {
    const commitTs = view.getFloat64(r + 4 + COMMIT_TS_AT, true);
    if (commitTs > upTo) break;
    lastTs = commitTs;
    r += 4 + view.getUint32(r, true);
  }
  return { count: kept, payloadBytes: r - at - BATCH_HEADER_BYTES, lastTs };
}

/** Writes `bytes` from `from` (a rewritten last batch, or `end`): the batch, then zeros from `end` to the segment's end. */
function endSegmentAt(layer: FileLayer, path: string, bytes: Uint8Array, from: number, end: number): void {
  bytes.fill(0, end);
  const fd = layer.open(path, false);
  try {
    writeAll(layer, fd, path, bytes, from, bytes.length - from, from);
    layer.fdatasync(fd);
  } finally {
    layer.close(fd);
  }
}
