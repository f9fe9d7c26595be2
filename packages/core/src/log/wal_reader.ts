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
 *   a segment shorter than its header's size           corruption (segments are made whole, under a
 *                                                        temp name): CORRUPT naming the file
 *   zeros or a stale batch, then a valid batch of      corruption (batches are appended in order and
 *     this segment's use further on                      synced one by one): CORRUPT naming the offset
 *   a seal naming this segment (version 2 writes one    the writer moved on: continue in the next
 *     when it moves on)                                  segment
 *   a sealed segment with no next segment               corruption (the next segment is made before
 *                                                        the seal): CORRUPT naming the missing one
 *   an unsealed version 2 segment, then segments         an unfinished rollover: the log ends in the
 *     holding no batch of this segment's use             unsealed segment; the writer goes on there
 *   an unsealed version 2 segment, then a batch of       corruption (batches or the seal are missing):
 *     this segment's use in a later segment              CORRUPT naming the file and offset
 *
 * "A batch of this segment's use" is a valid batch newer than every commit
 * replayed before the segment: stale batches of a recycled segment are older
 * than the checkpoint that freed it. Each check only adds a failure case for
 * bytes no write sequence of the writer leaves behind (a crash included, the
 * rollover protocol in docs/FORMAT.md), so a torn tail still reads as one.
 * The seal rows catch a segment replaced by an older copy of itself when a
 * later segment follows, and a deleted newest segment; an older copy of the
 * last segment reads like a crash before the missing writes
 * (docs/RELIABILITY.md, "Corruption and tampering").
 */
import { join } from 'node:path';
import { ErrorCode, TidemarkError } from '../errors.js';
import type { FileLayer } from '../files/file_layer.js';
import { readSegment, type SegmentBytes } from './segment_read.js';
import {
  alignBatch,
  allZero,
  BATCH_HEADER_BYTES,
  BATCH_ALIGN_BYTES,
  BATCH_MAGIC,
  batchTimeBytes,
  decodeSegmentHeader,
  readBatch,
  readSeal,
  SEAL_MAGIC,
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

/** One record at bytes[offset, offset + length); `view` is a DataView over the whole of `bytes`. */
export type RecordCallback = (
  bytes: Uint8Array,
  offset: number,
  length: number,
  where: () => string,
  view: DataView,
) => void;

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
export function replayWal(
  layer: FileLayer,
  dir: string,
  onRecord: RecordCallback,
  start: WalStart | null = null,
): WalPosition {
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
  checkFirst(dir, files, first, start);
  const segments = new SegmentCache(layer, files);
  for (let i = 0; i < files.length; i++) {
    const { seq, path } = files[i]!;
    if (i > 0 && seq !== files[i - 1]!.seq + 1) {
      throw new TidemarkError(
        ErrorCode.CORRUPT,
        `${join(dir, segmentName(files[i - 1]!.seq + 1))}: WAL segment ${files[i - 1]!.seq + 1} is missing before ${path}`,
      );
    }
    const from = i === 0 && start !== null ? start.offset : SEGMENT_HEADER_BYTES;
    const segment = segments.load(i, from);
    const header = checkSegment(segment.bytes, path, seq, position);
    if (from < SEGMENT_HEADER_BYTES || from > segment.bytes.length || from % BATCH_ALIGN_BYTES !== 0) {
      throw new TidemarkError(
        ErrorCode.CORRUPT,
        `${path}: the root file's WAL position ${from} is not a batch boundary of the segment (offset ${from})`,
      );
    }
    const startTs = position.lastCommitTs;
    const end = replaySegment(segment.bytes, path, seq, position, onRecord, from, batchTimeBytes(header.version));
    position.seq = seq;
    position.offset = end.offset;
    const last = i === files.length - 1;
    const next = afterSegment({ dir, path, seq, version: header.version, segment, end, startTs, last }, position, () =>
      segments.newerLater(i, startTs),
    );
    if (!next) break;
    segments.drop(i); // keep one segment in memory at a time
  }
  return position;
}

/** The first segment replay needs must be there: the root's, or segment 0. */
function checkFirst(
  dir: string,
  files: Array<{ seq: number; path: string }>,
  first: number,
  start: WalStart | null,
): void {
  if (files.length > 0 && files[0]!.seq !== first) {
    const why = start === null ? 'no root file covers the segments before it' : 'the root file needs it';
    throw new TidemarkError(
      ErrorCode.CORRUPT,
      `${join(dir, segmentName(first))}: WAL segment ${first} is missing (the WAL starts at ${files[0]!.path}); ${why}`,
    );
  }
  if (files.length === 0 && start !== null && start.offset > SEGMENT_HEADER_BYTES) {
    throw new TidemarkError(
      ErrorCode.CORRUPT,
      `${join(dir, segmentName(first))}: the WAL segment the root file needs is missing`,
    );
  }
}

/** The segments of one replay, read on demand and dropped once replayed. */
class SegmentCache {
  private readonly contents: Array<SegmentBytes | null>;

  constructor(
    private readonly layer: FileLayer,
    private readonly files: Array<{ seq: number; path: string }>,
  ) {
    this.contents = files.map(() => null);
  }

  load(i: number, from = SEGMENT_HEADER_BYTES): SegmentBytes {
    this.contents[i] ??= readSegment(this.layer, this.files[i]!.path, from);
    return this.contents[i]!;
  }

  drop(i: number): void {
    this.contents[i] = null;
  }

  /** Whether a segment after the i-th holds a valid batch newer than `afterTs` (a batch of the log's current use). */
  newerLater(i: number, afterTs: number): boolean {
    for (let k = i + 1; k < this.files.length; k++) {
      const later = this.load(k);
      if (findNewerBatch(later.bytes, SEGMENT_HEADER_BYTES, later.dataEnd, afterTs) !== null) return true;
    }
    return false;
  }
}

interface SegmentEnd {
  dir: string;
  path: string;
  seq: number;
  version: number;
  segment: SegmentBytes;
  end: ReplayEnd;
  /** The newest commitTs replayed before this segment. */
  startTs: number;
  last: boolean;
}

/**
 * What follows the end of a segment's data (the table at the top of this
 * file): true to go on with the next segment, false where the log ends here;
 * CORRUPT where no write sequence of the writer leaves what is found.
 */
function afterSegment(at: SegmentEnd, position: WalPosition, newerLater: () => boolean): boolean {
  const { path, end, segment } = at;
  const newerHere = findNewerBatch(segment.bytes, end.offset + BATCH_ALIGN_BYTES, segment.dataEnd, at.startTs);
  if (newerHere !== null) {
    const what = end.bad ? 'bad WAL batch' : end.sealed ? 'seal' : 'end of the data';
    throw new TidemarkError(
      ErrorCode.CORRUPT,
      `${path}: ${what} at offset ${end.offset}, followed by a valid batch at offset ${newerHere}: batches are missing or damaged (offset ${end.offset})`,
    );
  }
  if (end.sealed) {
    if (!at.last) return true;
    throw new TidemarkError(
      ErrorCode.CORRUPT,
      `${join(at.dir, segmentName(at.seq + 1))}: WAL segment ${at.seq + 1} is missing: ${path} is sealed for it at offset ${end.offset}, which the log writer does only once it exists`,
    );
  }
  if (end.bad) {
    if (newerLater()) {
      throw new TidemarkError(
        ErrorCode.CORRUPT,
        `${path}: bad WAL batch at offset ${end.offset}, followed by valid newer batches (offset ${end.offset})`,
      );
    }
    position.tornTail = { file: path, offset: end.offset };
    let dirty = segment.dataEnd;
    while (dirty > end.offset && segment.bytes[dirty - 1] === 0) dirty--;
    position.dirtyUntil = dirty;
    return false;
  }
  if (at.version < 2 || at.last) return true;
  // Unsealed, so the writer never left it: what follows was made by a rollover that did not finish.
  if (newerLater()) {
    throw new TidemarkError(
      ErrorCode.CORRUPT,
      `${path}: the segment's data ends at offset ${end.offset} without its seal, and a later segment holds newer batches: batches are missing (offset ${end.offset})`,
    );
  }
  return false;
}

/** Checks a segment's header, name, database and size; returns the header. */
function checkSegment(
  bytes: Uint8Array,
  path: string,
  seq: number,
  position: WalPosition,
): ReturnType<typeof decodeSegmentHeader> {
  const header = decodeSegmentHeader(bytes, path);
  if (header.seq !== seq)
    throw new TidemarkError(ErrorCode.CORRUPT, `${path}: header names segment ${header.seq} (offset 16)`);
  position.databaseId ??= header.databaseId;
  if (header.databaseId !== position.databaseId) {
    throw new TidemarkError(
      ErrorCode.CORRUPT,
      `${path}: belongs to another database (id ${header.databaseId}) (offset 24)`,
    );
  }
  // Larger is allowed: a writer opened with a larger walSegmentBytes appends past an older segment's size.
  if (bytes.length < header.segmentBytes) {
    throw new TidemarkError(
      ErrorCode.CORRUPT,
      `${path}: is ${bytes.length} bytes, its header says ${header.segmentBytes}: truncated (offset ${bytes.length})`,
    );
  }
  return header;
}

interface ReplayEnd {
  offset: number;
  bad: boolean;
  /** The data ends with the segment's seal: the writer moved on to the next segment. */
  sealed: boolean;
}

function replaySegment(
  bytes: Uint8Array,
  path: string,
  seq: number,
  position: WalPosition,
  onRecord: RecordCallback,
  from: number,
  timeBytes: number,
): ReplayEnd {
  let at = from;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (;;) {
    if (at + BATCH_HEADER_BYTES > bytes.length || allZero(bytes, at, at + BATCH_HEADER_BYTES))
      return { offset: at, bad: false, sealed: false };
    if (view.getUint32(at, true) === SEAL_MAGIC && readSeal(bytes, at, bytes.length, seq) !== null)
      return { offset: at, bad: false, sealed: true };
    const batch = readBatch(bytes, at, bytes.length);
    if (batch === null) return { offset: at, bad: true, sealed: false };
    if (batch.first <= position.lastCommitTs) return { offset: at, bad: false, sealed: false }; // stale bytes from an earlier use
    const payloadEnd = at + BATCH_HEADER_BYTES + batch.payloadBytes;
    let r = at + BATCH_HEADER_BYTES + timeBytes;
    const batchAt = at;
    if (batch.count === 0 || !(batch.last >= batch.first)) {
      throw new TidemarkError(
        ErrorCode.CORRUPT,
        `${path}: the batch at offset ${batchAt} has ${batch.count} records from ${batch.first} to ${batch.last} (offset ${batchAt})`,
      );
    }
    let k = 0;
    // One per batch: it reads k and r when called, while the record is visited.
    const where = (): string => `${path}: batch at offset ${batchAt}, record ${k} (offset ${r})`;
    for (; k < batch.count; k++) {
      const length = r + 4 <= payloadEnd ? view.getUint32(r, true) : -1;
      if (length < 0 || length > payloadEnd - r - 4) {
        throw new TidemarkError(
          ErrorCode.CORRUPT,
          `${path}: record ${k} of the batch at offset ${batchAt} overruns the batch (offset ${r})`,
        );
      }
      onRecord(bytes, r + 4, length, where, view);
      r += 4 + length;
    }
    if (r !== payloadEnd)
      throw new TidemarkError(
        ErrorCode.CORRUPT,
        `${path}: the batch at offset ${batchAt} has bytes after its last record (offset ${r})`,
      );
    position.lastCommitTs = batch.last;
    position.bytesReplayed += alignBatch(BATCH_HEADER_BYTES + batch.payloadBytes);
    at += alignBatch(BATCH_HEADER_BYTES + batch.payloadBytes);
  }
}

/**
 * The offset of a valid batch newer than `after` in [from, to), or null
 * (past `to` the segment is zeros). The magic is compared first (most
 * positions fail it), then the batch's first commitTs: a recycled segment
 * is full of stale batches, each a valid block, and checksumming every one
 * of them only to find it old took most of the replay's time after a long
 * run (a batch that is not newer cannot be the one sought, valid or not).
 */
function findNewerBatch(bytes: Uint8Array, from: number, to: number, after: number): number | null {
  const m0 = BATCH_MAGIC & 0xff;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = from; at < to && at + BATCH_HEADER_BYTES <= bytes.length; at += BATCH_ALIGN_BYTES) {
    if (bytes[at] !== m0 || !(view.getFloat64(at + 16, true) > after)) continue;
    const batch = readBatch(bytes, at, bytes.length);
    if (batch !== null && batch.first > after) return at;
  }
  return null;
}
