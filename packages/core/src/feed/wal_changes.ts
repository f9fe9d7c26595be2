/**
 * The change feed's reads of the WAL, on a worker: the record bodies of
 * commits after `afterTs`, in order, up to about `maxBytes`, read from the
 * segments on disk while the log writer keeps writing (a batch being
 * written, or a segment recycled under the read, ends the read there; the
 * feed asks again). `expired` when the WAL no longer holds every commit
 * after `afterTs`: its oldest segment is not the first and begins after it.
 */
import { join } from 'node:path';
import { NodeFileLayer, readFile } from '../files/file_layer.js';
import { listSegments } from '../log/wal_reader.js';
import {
  alignBatch,
  allZero,
  BATCH_HEADER_BYTES,
  batchTimeBytes,
  decodeSegmentHeader,
  readBatch,
  readSeal,
  SEAL_MAGIC,
  SEGMENT_HEADER_BYTES,
  segmentName,
} from '../log/wal_format.js';

export interface WalChangesTask {
  dir: string;
  afterTs: number;
  maxBytes: number;
}

export interface WalChanges {
  /** `u32 length | body` of each record, in commit order. */
  records: Uint8Array;
  count: number;
  /** Each record's batch time (ms since the epoch); -1 in a segment older than version 3, which has none. */
  times: number[];
  /** The newest commitTs read (afterTs if none). */
  lastTs: number;
  /** The WAL no longer holds every commit after afterTs; `oldestTs`: the feed can start after it. */
  expired: boolean;
  oldestTs: number;
}

const COMMIT_TS_AT = 4;

export function readWalChanges(task: WalChangesTask): WalChanges {
  const layer = new NodeFileLayer();
  const seqs = listSegments(layer, task.dir);
  const out: Uint8Array[] = [];
  const times: number[] = [];
  let bytes = 0;
  let count = 0;
  let lastTs = task.afterTs;
  let oldestTs = 0;
  for (let i = 0; i < seqs.length && bytes < task.maxBytes; i++) {
    const seq = seqs[i]!;
    if (i > 0 && seq !== seqs[i - 1]! + 1) break;
    let segment: Uint8Array;
    let timeBytes: number;
    try {
      segment = readFile(layer, join(task.dir, segmentName(seq)));
      const header = decodeSegmentHeader(segment, segmentName(seq));
      if (header.seq !== seq) break;
      timeBytes = batchTimeBytes(header.version);
    } catch {
      break; // recycled or removed while listed: the feed reads again
    }
    const view = new DataView(segment.buffer, segment.byteOffset, segment.byteLength);
    let at = SEGMENT_HEADER_BYTES;
    let previous = 0;
    while (bytes < task.maxBytes) {
      if (at + BATCH_HEADER_BYTES > segment.length || allZero(segment, at, at + BATCH_HEADER_BYTES)) break;
      if (view.getUint32(at, true) === SEAL_MAGIC && readSeal(segment, at, segment.length, seq) !== null) break;
      const batch = readBatch(segment, at, segment.length);
      if (batch === null || batch.first <= previous) break; // being written, or stale bytes of an earlier use
      previous = batch.last;
      if (i === 0 && at === SEGMENT_HEADER_BYTES) {
        oldestTs = seq === 0 ? 0 : batch.first - 1;
        if (task.afterTs < oldestTs)
          return { records: new Uint8Array(0), count: 0, times, lastTs, expired: true, oldestTs };
      }
      const time = timeBytes > 0 ? view.getFloat64(at + BATCH_HEADER_BYTES, true) : -1;
      let r = at + BATCH_HEADER_BYTES + timeBytes;
      for (let k = 0; k < batch.count; k++) {
        const length = view.getUint32(r, true);
        const commitTs = view.getFloat64(r + 4 + COMMIT_TS_AT, true);
        if (commitTs > lastTs) {
          out.push(segment.subarray(r, r + 4 + length));
          times.push(time);
          bytes += 4 + length;
          count++;
          lastTs = commitTs;
        }
        r += 4 + length;
      }
      at += alignBatch(BATCH_HEADER_BYTES + batch.payloadBytes);
    }
  }
  const records = new Uint8Array(bytes);
  let at = 0;
  for (const part of out) {
    records.set(part, at);
    at += part.length;
  }
  return { records, count, times, lastTs, expired: false, oldestTs };
}
