/**
 * The WAL's segment files, for the writer (wal_writer.ts): making a new
 * segment whole on disk (a recycled free segment, the spare reserved ahead,
 * or zeros written now), reserving the next segment's space ahead of need,
 * and which old segments are free to recycle or delete.
 *
 * A segment is built under a temporary name — zero-filled to its full size
 * so its space is really reserved, header written, synced — and renamed into
 * place, so a crash never leaves a half-made segment under a WAL name. Sizes
 * only grow (the writer doubles them up to options.walSegmentBytes), so a
 * free segment of another size than the one wanted is deleted, not kept.
 */
import { join } from 'node:path';
import { readAll, writeAll, type FileLayer } from '../files/file_layer.js';
import { listSegments } from './wal_reader.js';
import { encodeSegmentHeader, SEGMENT_HEADER_BYTES, BATCH_HEADER_BYTES, segmentName } from './wal_format.js';
import type { WalWriterOptions } from './wal_writer.js';

export const ZERO_CHUNK_BYTES = 1024 * 1024;

/** The next segment's space, reserved ahead of need under a temporary name (it holds only zeros). */
export const SPARE_SEGMENT_NAME = 'wal-spare.tmp';

export class WalSegments {
  segmentsCreated = 0;
  segmentsRecycled = 0;
  segmentsDeleted = 0;
  /** The next segment's space, reserved ahead: bytes of the spare file zero-filled so far, its size, whether it is whole and synced. */
  private spareFilled = 0;
  private spareSize = 0;
  private spareReady = false;
  /** A free segment will be recycled at the next rollover, so no spare is needed (found once per segment). */
  private recycleReady = false;

  constructor(
    private readonly layer: FileLayer,
    private readonly dir: string,
    private readonly options: WalWriterOptions,
  ) {}

  /** Bytes of the spare that is ready (0 if none). */
  get spareBytes(): number {
    return this.spareReady ? this.spareSize : 0;
  }

  /** Whether the next segment's space is taken care of: a spare ready, or a free segment to recycle. */
  get nextReady(): boolean {
    return this.spareReady || this.recycleReady;
  }

  /**
   * Reserves the space of a next segment of `size` bytes ahead of need, a
   * chunk per call (so the writer is never busy long): a zero-filled spare
   * file under a temporary name, synced. Returns true once it is ready (or a
   * free segment of that size will be recycled instead). Throws DISK_FULL when
   * the disk has no room: the early warning that turns the database read-only
   * while the current segment still holds the commits in flight.
   */
  prepareSpare(size: number, chunkBytes = ZERO_CHUNK_BYTES): boolean {
    if (this.spareReady && this.spareSize === size) return true;
    if (this.recycleReady) return true;
    if (this.spareFilled === 0 && this.free().some((s) => this.sizeOf(s) === size)) {
      this.recycleReady = true; // until the next rollover: no need to list the directory every step
      return true;
    }
    const path = this.sparePath;
    if (this.spareSize !== size) {
      // The next segment grew since this spare began: start over at the new size.
      this.spareFilled = 0;
      this.spareReady = false;
    }
    if (this.spareFilled === 0 && this.layer.exists(path)) this.layer.unlink(path);
    this.spareSize = size;
    const fd = this.layer.open(path, true);
    try {
      const zeros = new Uint8Array(Math.min(chunkBytes, size - this.spareFilled));
      writeAll(this.layer, fd, path, zeros, 0, zeros.length, this.spareFilled);
      this.spareFilled += zeros.length;
      if (this.spareFilled === size) {
        this.layer.fdatasync(fd);
        this.spareReady = true;
      }
    } finally {
      this.layer.close(fd);
    }
    return this.spareReady;
  }

  /** Gives the spare's space back (a clean close: the next writer reserves its own). */
  dropSpare(): void {
    if (this.spareFilled > 0 || this.layer.exists(this.sparePath)) this.layer.unlink(this.sparePath);
    this.spareFilled = 0;
    this.spareReady = false;
  }

  /** Makes segment `seq` of `size` bytes whole on disk under its name (see the header). */
  create(seq: number, size: number): void {
    const path = this.path(seq);
    const temp = `${path}.tmp`;
    if (this.layer.exists(temp)) this.layer.unlink(temp);
    const free = this.free().map((seq) => ({ seq, bytes: this.sizeOf(seq) }));
    for (const f of free.filter((f) => f.bytes !== size)) {
      this.layer.unlink(this.path(f.seq));
      this.segmentsDeleted++;
    }
    const same = free.filter((f) => f.bytes === size).map((f) => f.seq);
    const reuse = same.shift();
    const spare = reuse === undefined && this.spareReady && this.spareSize === size;
    this.recycleReady = false;
    if (reuse !== undefined) this.layer.rename(this.path(reuse), temp);
    else if (spare) this.layer.rename(this.sparePath, temp);
    else if (this.spareFilled > 0 && this.layer.exists(this.sparePath)) this.layer.unlink(this.sparePath); // its space, for the zero-fill below
    if (reuse === undefined) {
      // The spare was used, or given up; one kept while a free segment is recycled stays ready for a later rollover.
      this.spareReady = false;
      this.spareFilled = 0;
    }
    const fd = this.layer.open(temp, true);
    try {
      if (reuse === undefined && !spare) {
        const zeros = new Uint8Array(Math.min(ZERO_CHUNK_BYTES, size));
        for (let at = 0; at < size; at += zeros.length)
          writeAll(this.layer, fd, temp, zeros, 0, Math.min(zeros.length, size - at), at);
      }
      const header = encodeSegmentHeader({ seq, databaseId: this.options.databaseId, segmentBytes: size });
      writeAll(this.layer, fd, temp, header, 0, header.length, 0);
      this.layer.fdatasync(fd);
    } finally {
      this.layer.close(fd);
    }
    this.layer.rename(temp, path);
    this.deleteSurplus(same, seq);
    this.layer.fsyncDir(this.dir);
    if (reuse === undefined) this.segmentsCreated++;
    else this.segmentsRecycled++;
  }

  /**
   * Deletes the free segments of another size than `size`, the current
   * segment's (at open): a smaller one would never be recycled (sizes only
   * grow), a larger one only after the segments grew to it again, and until
   * the next rollover deleted them they held disk space for nothing.
   */
  deleteOtherSizes(size: number): void {
    const other = this.free().filter((seq) => this.sizeOf(seq) !== size);
    for (const seq of other) {
      this.layer.unlink(this.path(seq));
      this.segmentsDeleted++;
    }
    if (other.length > 0) this.layer.fsyncDir(this.dir);
  }

  path(seq: number): string {
    return join(this.dir, segmentName(seq));
  }

  private get sparePath(): string {
    return join(this.dir, SPARE_SEGMENT_NAME);
  }

  private sizeOf(seq: number): number {
    return this.layer.size(this.path(seq));
  }

  /** Free segments (below the first one the checkpoint needs, kept for nothing else), lowest first. */
  private free(): number[] {
    const firstNeeded = this.options.firstNeeded?.() ?? 0;
    if (firstNeeded <= 0) return [];
    const bound = this.options.retainBound?.() ?? Number.NEGATIVE_INFINITY;
    const archived = this.options.archivedBefore?.() ?? Number.POSITIVE_INFINITY;
    const cursorTs = this.options.cursorTs?.() ?? -1;
    const kept = (s: number): boolean =>
      s >= bound && (s >= archived || (cursorTs >= 0 && this.firstTsOf(s + 1) - 1 > cursorTs));
    return listSegments(this.layer, this.dir).filter((s) => s < firstNeeded && !kept(s));
  }

  /** The commitTs of segment `seq`'s first batch (every commit of the segments before it is older); Infinity if none. */
  private firstTsOf(seq: number): number {
    const path = this.path(seq);
    if (!this.layer.exists(path)) return Number.POSITIVE_INFINITY;
    const bytes = new Uint8Array(SEGMENT_HEADER_BYTES + BATCH_HEADER_BYTES);
    const fd = this.layer.open(path, false);
    try {
      if (readAll(this.layer, fd, bytes, 0, bytes.length, 0) < bytes.length) return Number.POSITIVE_INFINITY;
    } finally {
      this.layer.close(fd);
    }
    const first = new DataView(bytes.buffer).getFloat64(SEGMENT_HEADER_BYTES + 16, true);
    return first > 0 ? first : Number.POSITIVE_INFINITY;
  }

  /** Deletes free segments while more than maxSegments segment files are on disk. */
  private deleteSurplus(free: number[], newest: number): void {
    const max = this.options.maxSegments;
    if (max === undefined) return;
    const firstNeeded = Math.min(this.options.firstNeeded?.() ?? 0, newest);
    let onDisk = newest - firstNeeded + 1 + free.length;
    while (onDisk > max && free.length > 0) {
      this.layer.unlink(this.path(free.shift()!));
      this.segmentsDeleted++;
      onDisk--;
    }
  }
}
