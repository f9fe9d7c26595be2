/**
 * Appends batches of log records to WAL segments (runs in the log writer
 * worker; a pure module over the file layer so tests drive it directly).
 * A batch is built in memory, written with one positional write, and made
 * durable by `sync()` (one fdatasync for the whole group of commits).
 * Segments are created pre-allocated — zero-filled to their full size and
 * synced, directory included — so appends never extend a file. They start
 * small (FIRST_SEGMENT_BYTES) and double at each rollover up to
 * `segmentBytes`, so a small database takes little disk and opens fast,
 * while a busy one soon writes whole large segments; a record too large for
 * the next size gets a segment large enough for it. At rollover
 * a free segment (wholly before the newest checkpoint) is recycled instead
 * when there is one: renamed and given a new header, no zero-filling. Its
 * stale batches are older than anything new, which replay and the WAL tail
 * read as the end of the segment's data.
 *
 * Rollover, in this order (docs/FORMAT.md, "Rollover"): the old segment's
 * last batch synced; the next segment made whole on disk (synced, renamed,
 * directory synced); the old segment's seal written after its last batch and
 * synced; only then a batch in the next segment. So a crash leaves either an
 * unsealed last segment with at most an empty one after it (the next writer
 * goes on in the unsealed one), or a sealed one whose successor exists.
 */
import { assert } from '../assert.js';
import { copyBytes } from '../files/copy_bytes.js';
import { readAll, writeAll, type FileLayer } from '../files/file_layer.js';
import { RECORD_PREFIX_BYTES } from './record.js';
import { WalSegments, ZERO_CHUNK_BYTES } from './wal_segments.js';
import {
  alignBatch,
  BATCH_HEADER_BYTES,
  batchTimeBytes,
  decodeSegmentHeader,
  SEGMENT_VERSION,
  SEGMENT_HEADER_BYTES,
  SEAL_BYTES,
  sealBatch,
  writeSeal,
} from './wal_format.js';

/** The first segment's size, at most (a smaller `segmentBytes` caps it). */
export const FIRST_SEGMENT_BYTES = 1024 * 1024;
/** A segment grown for one large record is rounded up to a multiple of this. */
const GROW_STEP_BYTES = 64 * 1024;

export { SPARE_SEGMENT_NAME } from './wal_segments.js';

export interface WalWriterOptions {
  /** The largest segment size (options.walSegmentBytes); segments start smaller and grow to it. */
  segmentBytes: number;
  databaseId: bigint;
  /** Segment to write in (created if absent) and the offset to continue at. */
  seq: number;
  offset: number;
  /** Bytes of a cut torn tail, [offset, zeroUntil), to zero before appending; 0 if none. */
  zeroUntil?: number;
  /** The newest commitTs already in the log (replayed at open); 0 if none. A seal records the newest at rollover. */
  lastCommitTs?: number;
  /** The first segment the newest checkpoint needs; segments below it may be recycled. Default: none free. */
  firstNeeded?: () => number;
  /** Segment files kept on disk at most (needed and free); free ones past it are deleted. Default: no limit. */
  maxSegments?: number;
  /** Every segment below it is archived (wal_archiver.ts): only those may be recycled. Default: all. */
  archivedBefore?: () => number;
  /** The oldest named change-feed cursor's commitTs (-1: none): a segment holding a later commit is kept. */
  cursorTs?: () => number;
  /** Segments below it are free whatever the archive and the cursors would keep (options.maxRetainedWalBytes). */
  retainBound?: () => number;
}

/** The largest framed record (length prefix included) a segment of `segmentBytes` holds, room for the seal kept. */
export function maxFramedRecordBytes(segmentBytes: number): number {
  return segmentBytes - SEGMENT_HEADER_BYTES - BATCH_HEADER_BYTES - batchTimeBytes(SEGMENT_VERSION) - 8 - SEAL_BYTES;
}

/** The largest record body a segment of `segmentBytes` holds: commits with a larger log record are refused before they install. */
export function maxRecordBodyBytes(segmentBytes: number): number {
  return maxFramedRecordBytes(segmentBytes) - RECORD_PREFIX_BYTES;
}

export class WalWriter {
  private fd = -1;
  private seq: number;
  private offset: number;
  /** The current segment's size (its header's), and the size the next one is made with (the spare's too). */
  private size = 0;
  private nextBytes: number;
  private readonly batch: Uint8Array;
  private readonly view: DataView;
  private batchBytes = 0;
  private batchRecords = 0;
  /** Bytes of the batch time in the current segment's version (wal_format.ts, batchTimeBytes). */
  private timeBytes = 0;
  private firstTs = 0;
  private lastTs = 0;
  /** Bytes written since the writer started, batch headers and padding included. */
  bytesWritten = 0;
  batchesWritten = 0;
  /** The newest commitTs written, synced or not. */
  writtenTs = 0;
  /** The next segment is made on disk by a rollover that has not finished (it failed after making it). */
  private nextMade = false;
  /** The newest commitTs in the log, written by this writer or replayed before it started. */
  private lastLoggedTs: number;
  private readonly segments: WalSegments;

  constructor(
    private readonly layer: FileLayer,
    dir: string,
    private readonly options: WalWriterOptions,
  ) {
    this.seq = options.seq;
    this.offset = options.offset;
    this.lastLoggedTs = options.lastCommitTs ?? 0;
    this.segments = new WalSegments(layer, dir, options);
    this.nextBytes = Math.min(options.segmentBytes, FIRST_SEGMENT_BYTES);
    this.batch = new Uint8Array(options.segmentBytes - SEGMENT_HEADER_BYTES);
    this.view = new DataView(this.batch.buffer);
    this.openSegment(this.seq, this.offset === 0);
    if ((options.zeroUntil ?? 0) > this.offset) this.zeroTornTail(options.zeroUntil!);
    this.segments.deleteOtherSizes(this.size);
  }

  /**
   * The rest of a torn batch would read as a bad batch after the new ones
   * (and be reported as another torn tail): zero it, durably, first.
   */
  private zeroTornTail(until: number): void {
    const zeros = new Uint8Array(Math.min(ZERO_CHUNK_BYTES, until - this.offset));
    for (let at = this.offset; at < until; at += zeros.length) {
      writeAll(this.layer, this.fd, this.path(this.seq), zeros, 0, Math.min(zeros.length, until - at), at);
    }
    this.layer.fdatasync(this.fd);
  }

  /** The segment being written. */
  get currentSeq(): number {
    return this.seq;
  }

  /** The largest record a segment can hold. */
  get maxRecordBytes(): number {
    return maxFramedRecordBytes(this.options.segmentBytes);
  }

  /**
   * Adds a record body to the current batch, behind its u32 length; writes
   * the batch first if the segment cannot hold it too. The commitTs is read
   * from the body.
   */
  add(body: Uint8Array, offset: number, length: number): void {
    const framed = RECORD_PREFIX_BYTES + length;
    assert(framed <= this.maxRecordBytes, 'record fits a segment');
    this.openPending();
    if (this.batchRecords === 0) this.batchBytes = this.timeBytes;
    if (this.offset + alignBatch(BATCH_HEADER_BYTES + this.batchBytes + framed) + SEAL_BYTES > this.size) {
      this.writeBatch();
      // The next segment holds this record whatever its planned size.
      const need =
        SEGMENT_HEADER_BYTES + alignBatch(BATCH_HEADER_BYTES + batchTimeBytes(SEGMENT_VERSION) + framed) + SEAL_BYTES;
      const grown = Math.ceil(need / GROW_STEP_BYTES) * GROW_STEP_BYTES;
      this.nextBytes = Math.min(this.options.segmentBytes, Math.max(this.nextBytes, grown));
      this.rollover();
      this.batchBytes = this.timeBytes;
    }
    const at = BATCH_HEADER_BYTES + this.batchBytes;
    this.view.setUint32(at, length, true);
    copyBytes(body, offset, length, this.batch, at + RECORD_PREFIX_BYTES);
    const commitTs = this.view.getFloat64(at + RECORD_PREFIX_BYTES + 4, true);
    if (this.batchRecords === 0) this.firstTs = commitTs;
    this.lastTs = commitTs;
    this.batchBytes += framed;
    this.batchRecords++;
  }

  /** Writes the batch built so far (if any) and fdatasyncs; returns the newest commitTs now durable (0 if none). */
  sync(): number {
    this.flush();
    this.layer.fdatasync(this.fd);
    return this.writtenTs;
  }

  /**
   * Writes the batch built so far without syncing (a later sync covers it).
   * Every method is safe to call again after it threw (a full disk): the
   * batch stays built until its write succeeds, and a segment that could not
   * be made is made by the next call.
   */
  flush(): void {
    this.openPending();
    this.writeBatch();
  }

  /** Bytes the log can take without allocating: the rest of this segment and a prepared spare (recyclable segments not counted). */
  get reservedBytes(): number {
    const rest = this.fd < 0 ? 0 : this.size - this.offset;
    return rest + this.segments.spareBytes;
  }

  /** Whether the current segment is past half full: time to have the next one's space ready. */
  get spareWanted(): boolean {
    return !this.segments.nextReady && this.offset * 2 >= this.size;
  }

  /**
   * Reserves the next segment's space ahead of need, a chunk per call
   * (WalSegments.prepareSpare); true once it is ready. Throws DISK_FULL when
   * the disk has no room.
   */
  prepareSpare(chunkBytes?: number): boolean {
    return this.segments.prepareSpare(this.nextBytes, chunkBytes);
  }

  get segmentsCreated(): number {
    return this.segments.segmentsCreated;
  }

  get segmentsRecycled(): number {
    return this.segments.segmentsRecycled;
  }

  get segmentsDeleted(): number {
    return this.segments.segmentsDeleted;
  }

  /**
   * Closes the segment and gives the spare's space back (the next writer
   * reserves its own). A clean close (everything written and synced) also
   * moves on from a grown segment to a new one of the first size: the final
   * checkpoint then names a position in the small one (WalTail.skipSealed),
   * and the next open deletes the grown one, free by then, instead of
   * keeping its space (up to walSegmentBytes) for a database at rest. The
   * segments grow again with the writes after it.
   */
  close(clean = false): void {
    const first = Math.min(this.options.segmentBytes, FIRST_SEGMENT_BYTES);
    if (clean && this.fd >= 0 && this.batchRecords === 0 && this.size > first) {
      try {
        this.nextBytes = first;
        this.rollover();
      } catch {
        // No room for the small segment (a full disk): the database stays in the grown one.
      }
    }
    if (this.fd >= 0) this.layer.close(this.fd);
    this.fd = -1;
    this.segments.dropSpare();
  }

  private writeBatch(): void {
    if (this.batchRecords === 0) return;
    if (this.timeBytes > 0) this.view.setFloat64(BATCH_HEADER_BYTES, Date.now(), true);
    const size = sealBatch(this.batch, 0, this.batchBytes, this.batchRecords, this.firstTs, this.lastTs);
    // Zeros after the batch, in the same write, where room remains: the end of the data always reads as
    // zeros, even in a recycled segment whose stale bytes would otherwise look like a torn batch.
    let written = size;
    if (this.offset + size + BATCH_HEADER_BYTES <= this.size) {
      this.batch.fill(0, size, size + BATCH_HEADER_BYTES);
      written += BATCH_HEADER_BYTES;
    }
    writeAll(this.layer, this.fd, this.path(this.seq), this.batch, 0, written, this.offset);
    this.writtenTs = this.lastTs;
    this.lastLoggedTs = this.lastTs;
    this.offset += size;
    this.bytesWritten += size;
    this.batchesWritten++;
    this.batchBytes = 0;
    this.batchRecords = 0;
  }

  /**
   * Moves to the next segment (the protocol in this file's header). If a step
   * fails (a full disk), the writer stays in this segment and the next call
   * finishes the rollover from where it stopped.
   */
  private rollover(): void {
    this.layer.fdatasync(this.fd);
    if (!this.nextMade) {
      this.segments.create(this.seq + 1, this.nextBytes);
      this.nextMade = true;
    }
    const seal = new Uint8Array(SEAL_BYTES);
    writeSeal(seal, 0, this.seq, this.lastLoggedTs);
    writeAll(this.layer, this.fd, this.path(this.seq), seal, 0, SEAL_BYTES, this.offset);
    this.layer.fdatasync(this.fd);
    this.layer.close(this.fd);
    this.fd = -1;
    this.nextMade = false;
    this.seq++;
    this.offset = 0;
    this.openSegment(this.seq, false);
  }

  /** Makes the segment a failed rollover left unmade. */
  private openPending(): void {
    if (this.fd < 0) this.openSegment(this.seq, false);
  }

  /** Opens a segment, creating it first when it is new. */
  private openSegment(seq: number, fresh: boolean): void {
    const path = this.path(seq);
    const made = fresh || !this.layer.exists(path);
    if (made) this.segments.create(seq, this.nextBytes);
    this.fd = this.layer.open(path, false);
    if (this.offset === 0) this.offset = SEGMENT_HEADER_BYTES;
    // An existing segment is written on in its own version and up to its own size (or segmentBytes if smaller).
    const bytes = new Uint8Array(SEGMENT_HEADER_BYTES);
    readAll(this.layer, this.fd, bytes, 0, SEGMENT_HEADER_BYTES, 0);
    const header = decodeSegmentHeader(bytes, path);
    this.timeBytes = batchTimeBytes(made ? SEGMENT_VERSION : header.version);
    this.size = Math.min(header.segmentBytes, this.options.segmentBytes);
    this.nextBytes = Math.min(this.options.segmentBytes, Math.max(this.nextBytes, this.size * 2));
  }

  private path(seq: number): string {
    return this.segments.path(seq);
  }
}
